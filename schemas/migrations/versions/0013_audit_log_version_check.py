"""The audit log checks the model versions its rows name once per statement; what it logged is fixed.

``ai.prediction_log``'s foreign key to ``ai.model_versions`` was checked row by row: one query and
one row lock for each logged prediction, about a third of the time Postgres takes to insert a
batch of 1,000 rows (docs/benchmarks.md, Serving), although a batch names one version, or a few.
The same guarantee now comes from two triggers:

- after each INSERT statement on the log, the versions its rows name are locked as the foreign key
  locked them (FOR KEY SHARE, until the transaction ends, so that none can be deleted meanwhile),
  and a version that ``ai.model_versions`` does not hold refuses the statement with the error the
  constraint raised (foreign_key_violation);
- a version that logged predictions name cannot be deleted, nor its id changed.

A foreign key also held on UPDATE of the log. Here no runtime role may change what was logged:
the application and the operator roles may update only the feedback columns (intake's verdicts),
not the version, input, output, confidence or time of a prediction. Before, both could rewrite a
logged prediction of a tenant they act for, and an audit record that its writer can change records
little.

Both trigger functions run as the schema's owner, as a foreign key's checks do, with their search
path pinned.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
FEEDBACK_COLUMNS = "actual_output, was_correct, user_override, override_reason, user_feedback, feedback_at"
RUNTIME_ROLES = "modelops_app, modelops_operator"


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE ai.prediction_log DROP CONSTRAINT prediction_log_model_version_id_fkey;

        CREATE FUNCTION ai.prediction_log_names_known_versions() RETURNS trigger
            LANGUAGE plpgsql {DEFINER}
            AS $$
            DECLARE
                unknown uuid;
            BEGIN
                -- locked before they are looked for: a version deleted meanwhile is then found missing
                PERFORM FROM ai.model_versions AS v WHERE v.id IN (SELECT model_version_id FROM logged) FOR KEY SHARE OF v;
                SELECT n.model_version_id INTO unknown
                FROM (SELECT DISTINCT model_version_id FROM logged) AS n
                WHERE n.model_version_id IS NOT NULL
                  AND NOT EXISTS (SELECT FROM ai.model_versions AS v WHERE v.id = n.model_version_id)
                LIMIT 1;
                IF FOUND THEN
                    RAISE EXCEPTION 'insert into ai.prediction_log names model version %, which is not in ai.model_versions', unknown
                        USING ERRCODE = 'foreign_key_violation';
                END IF;
                RETURN NULL;
            END
            $$;
        CREATE TRIGGER prediction_log_names_known_versions AFTER INSERT ON ai.prediction_log
            REFERENCING NEW TABLE AS logged
            FOR EACH STATEMENT EXECUTE FUNCTION ai.prediction_log_names_known_versions();

        CREATE FUNCTION ai.model_version_kept_while_logged() RETURNS trigger
            LANGUAGE plpgsql {DEFINER}
            AS $$
            BEGIN
                IF (TG_OP = 'DELETE' OR NEW.id IS DISTINCT FROM OLD.id)
                   AND EXISTS (SELECT FROM ai.prediction_log WHERE model_version_id = OLD.id) THEN
                    RAISE EXCEPTION 'model version % is named by logged predictions: it cannot be deleted or renumbered', OLD.id
                        USING ERRCODE = 'foreign_key_violation';
                END IF;
                RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            END
            $$;
        CREATE TRIGGER model_version_kept_while_logged BEFORE DELETE OR UPDATE OF id ON ai.model_versions
            FOR EACH ROW EXECUTE FUNCTION ai.model_version_kept_while_logged();

        REVOKE ALL ON FUNCTION ai.prediction_log_names_known_versions(), ai.model_version_kept_while_logged() FROM PUBLIC;
        REVOKE UPDATE ON ai.prediction_log FROM {RUNTIME_ROLES};
        GRANT UPDATE ({FEEDBACK_COLUMNS}) ON ai.prediction_log TO {RUNTIME_ROLES};
    """)


def downgrade() -> None:
    op.execute(f"""
        REVOKE UPDATE ({FEEDBACK_COLUMNS}) ON ai.prediction_log FROM {RUNTIME_ROLES};
        GRANT UPDATE ON ai.prediction_log TO {RUNTIME_ROLES};
        DROP TRIGGER model_version_kept_while_logged ON ai.model_versions;
        DROP FUNCTION ai.model_version_kept_while_logged();
        DROP TRIGGER prediction_log_names_known_versions ON ai.prediction_log;
        DROP FUNCTION ai.prediction_log_names_known_versions();
        ALTER TABLE ai.prediction_log ADD CONSTRAINT prediction_log_model_version_id_fkey
            FOREIGN KEY (model_version_id) REFERENCES ai.model_versions(id);
    """)
