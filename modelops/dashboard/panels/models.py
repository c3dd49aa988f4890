"""Current Models: the production model of each agent and scope, with today's live figures
(the spec's model_health widget: ai.model_metrics of today, accuracy, precision, recall, F1),
the latest daily user satisfaction and error rate, and its open alerts."""
from __future__ import annotations

from sqlalchemy import Connection

from modelops.dashboard.filters import Query
from modelops.dashboard import read_model
from modelops.dashboard.panels import records


def read(connection: Connection, query: Query) -> dict:
    models = records(connection.execute(read_model.PRODUCTION_MODELS, query.params(today=query.today)))
    return {"date": query.today.isoformat(), "models": models}
