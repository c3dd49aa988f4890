"""A/B tests end in two more ways, and a version's latest labelled predictions are read in order.

- A test can be stopped by its label-rate check (decision ``stop_label_rate``, status ``stopped``)
  and can end at its maximum duration without a verdict (decision and status ``inconclusive``:
  control stays, the candidate is retired).
- The sudden-failure check reads each production version's last labelled predictions newest
  first after every metrics fold; this index serves that read without sorting the version's log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE ai.ab_test_decisions DROP CONSTRAINT ab_test_decisions_decision_check;
        ALTER TABLE ai.ab_test_decisions ADD CONSTRAINT ab_test_decisions_decision_check
            CHECK (decision IN ('promote', 'reject', 'continue_testing', 'stop_srm', 'stop_label_rate', 'inconclusive'));
        ALTER TABLE ai.ab_tests DROP CONSTRAINT ab_tests_status_check;
        ALTER TABLE ai.ab_tests ADD CONSTRAINT ab_tests_status_check
            CHECK (status IN ('running', 'promoted', 'rejected', 'stopped', 'cancelled', 'inconclusive'));
        CREATE INDEX idx_prediction_log_version_labelled ON ai.prediction_log(model_version_id, prediction_timestamp DESC)
            WHERE was_correct IS NOT NULL;
    """)


def downgrade() -> None:
    op.execute("""
        DROP INDEX ai.idx_prediction_log_version_labelled;
        ALTER TABLE ai.ab_tests DROP CONSTRAINT ab_tests_status_check;
        ALTER TABLE ai.ab_tests ADD CONSTRAINT ab_tests_status_check
            CHECK (status IN ('running', 'promoted', 'rejected', 'stopped', 'cancelled'));
        ALTER TABLE ai.ab_test_decisions DROP CONSTRAINT ab_test_decisions_decision_check;
        ALTER TABLE ai.ab_test_decisions ADD CONSTRAINT ab_test_decisions_decision_check
            CHECK (decision IN ('promote', 'reject', 'continue_testing', 'stop_srm'));
    """)
