"""Where the shared models' training rows come from: synthetic data (global) or a region's pooled
rows (regional). A tenant's own model reads only its own feedback (``pipeline.collect``, as the
tenant, under row-level security), so per-tenant models never see another tenant's rows.

Rows have the shape ``pipeline.preprocess`` reads: ``{"input_data": ..., "expected_output": ...}``.
Each source also describes itself; the description is recorded in the version's training_config,
and a shared model whose source, config and libraries are all unchanged is not trained again (it
would be the same bytes under a new version number).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import text

from modelops import db
from modelops.agents.synthetic import generate
from modelops.training.errors import TrainingRefused

# The global model learns from many synthetic tenants, so that it is nobody's model in particular.
# Their seeds lie apart from the small seeds the demo and benchmarks use for "real" tenants, so a
# global model is always judged on tenants it never saw.
SYNTHETIC_TENANT_SEEDS = tuple(range(1000, 1012))
SYNTHETIC_ROWS_PER_TENANT = 500
SYNTHETIC_SEED = 0
# The pooled rows a regional model learns from: the region's aggregate, not a country's.
AGGREGATE_LEVEL = "region"


@dataclass(frozen=True)
class SourceRows:
    rows: list[dict]
    description: dict


def synthetic(agent_type: str) -> SourceRows:
    rows = [{"input_data": input_data, "expected_output": expected}
            for tenant_seed in SYNTHETIC_TENANT_SEEDS
            for input_data, expected in generate(agent_type, SYNTHETIC_ROWS_PER_TENANT, seed=SYNTHETIC_SEED,
                                                 tenant_seed=tenant_seed)]
    # the rows' own hash: a generator that changes (a new merchant list, a fix) changes the model
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
    return SourceRows(rows, {"kind": "synthetic", "tenant_seeds": list(SYNTHETIC_TENANT_SEEDS),
                             "rows_per_tenant": SYNTHETIC_ROWS_PER_TENANT, "seed": SYNTHETIC_SEED, "rows_sha256": digest})


def aggregate(agent_type: str, region: str) -> SourceRows:
    """The region's latest aggregate snapshot (operator-only rows that carry no tenant)."""
    with db.operator_scope() as connection:
        snapshot = connection.execute(
            text("""SELECT id, built_at, tenant_count, row_count FROM ai.aggregate_snapshots
                    WHERE level = :level AND area = :area AND agent_type = CAST(:agent AS ai.agent_type)"""),
            {"level": AGGREGATE_LEVEL, "area": region, "agent": agent_type},
        ).mappings().first()
        if snapshot is None:
            raise TrainingRefused(f"region {region} has no {agent_type} aggregate: it is built weekly from the tenants "
                                  f"that opted in, once enough of them have")
        rows = connection.execute(
            text("""SELECT input_data, expected_output FROM ai.aggregate_training_data
                    WHERE snapshot_id = :snapshot ORDER BY id"""),
            {"snapshot": snapshot["id"]},
        ).mappings().all()
    return SourceRows([dict(row) for row in rows], {
        "kind": "aggregate", "level": AGGREGATE_LEVEL, "area": region, "snapshot_id": str(snapshot["id"]),
        "built_at": snapshot["built_at"].isoformat(), "tenants": snapshot["tenant_count"], "rows": snapshot["row_count"],
    })
