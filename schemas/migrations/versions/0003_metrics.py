"""Metric counters folded from Redis: fold ledger.

``ai.model_metrics`` gets the remaining additive sums its figures are quotients of (failed
requests, ratings, per-class counts for precision, recall and F1), and the functions that add and
average per-class counts. ``ai.metric_folds`` is the ledger of folds: a fold of counters writes its
id there in the same transaction as its additions, so that folding the same counters again (their
fold committed, but the worker died before deleting them from Redis) changes nothing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
-- beyond the spec: requests the version could not answer, satisfaction ratings of its answers, and
-- per-class counts {"<class>": {"tp": n, "fp": n, "fn": n}} (see modelops/monitoring/counters.py)
ALTER TABLE ai.model_metrics
    ADD COLUMN failed_predictions INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN rating_count INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN rating_sum INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN class_counts JSONB NOT NULL DEFAULT '{}';

-- Per-class counts added class by class.
CREATE FUNCTION ai.add_class_counts(a jsonb, b jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(jsonb_object_agg(class, jsonb_build_object(
               'tp', coalesce((a -> class ->> 'tp')::bigint, 0) + coalesce((b -> class ->> 'tp')::bigint, 0),
               'fp', coalesce((a -> class ->> 'fp')::bigint, 0) + coalesce((b -> class ->> 'fp')::bigint, 0),
               'fn', coalesce((a -> class ->> 'fn')::bigint, 0) + coalesce((b -> class ->> 'fn')::bigint, 0))), '{}')
    FROM (SELECT jsonb_object_keys(coalesce(a, '{}')) UNION SELECT jsonb_object_keys(coalesce(b, '{}'))) AS classes(class)
$$;

-- The per-class counts of several rows (days) added up, e.g. over a rollback window.
CREATE AGGREGATE ai.sum_class_counts(jsonb) (SFUNC = ai.add_class_counts, STYPE = jsonb, INITCOND = '{}');

-- Macro-averaged precision, recall or F1 of per-class counts, as scikit-learn's average='macro'
-- with zero_division=0: each class seen (any count not zero) weighs the same; NULL with none.
CREATE FUNCTION ai.macro_average(counts jsonb, measure text) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT round(avg(CASE measure WHEN 'precision' THEN p WHEN 'recall' THEN r
                                  ELSE CASE WHEN p + r > 0 THEN 2 * p * r / (p + r) ELSE 0 END END), 4)
    FROM (SELECT coalesce(tp / nullif(tp + fp, 0), 0) AS p, coalesce(tp / nullif(tp + fn, 0), 0) AS r
          FROM (SELECT (c ->> 'tp')::numeric AS tp, (c ->> 'fp')::numeric AS fp, (c ->> 'fn')::numeric AS fn
                FROM jsonb_each(counts) AS e(class, c)) AS per_class
          WHERE tp <> 0 OR fp <> 0 OR fn <> 0) AS scores
$$;

-- One row per fold of counters that committed. Rows are pruned once their fold is no longer
-- pending in Redis (modelops/monitoring/fold.py says why that is safe).
CREATE TABLE ai.metric_folds (
    fold_id TEXT PRIMARY KEY,
    folded_at TIMESTAMP NOT NULL,
    version_days INTEGER NOT NULL,           -- (model version, day) rows the fold added to
    predictions BIGINT NOT NULL,
    labelled BIGINT NOT NULL,                -- net change of labelled predictions (a verdict may replace another)
    unknown_versions INTEGER NOT NULL DEFAULT 0  -- counters of versions not in ai.model_versions, dropped
);
CREATE INDEX idx_metric_folds_folded_at ON ai.metric_folds(folded_at);
ALTER TABLE ai.metric_folds ENABLE ROW LEVEL SECURITY;
CREATE POLICY operator_rows ON ai.metric_folds TO modelops_operator USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, DELETE ON ai.metric_folds TO modelops_operator;
"""

DOWNGRADE = """
DROP TABLE ai.metric_folds;
DROP FUNCTION ai.macro_average(jsonb, text);
DROP AGGREGATE ai.sum_class_counts(jsonb);
DROP FUNCTION ai.add_class_counts(jsonb, jsonb);
ALTER TABLE ai.model_metrics
    DROP COLUMN class_counts, DROP COLUMN rating_sum, DROP COLUMN rating_count, DROP COLUMN failed_predictions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
