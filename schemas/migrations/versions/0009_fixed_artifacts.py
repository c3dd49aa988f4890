"""A model version's artifact cannot change once recorded.

``model_artifact_path`` and ``artifact_sha256`` say which file a worker unpickles, and
``training_config.validation_model`` which one the promotion gate unpickles. A session that could
rewrite them could point every serving worker at a file of its choosing. Once set, they are fixed
for every role, the owner's included: a different model is a new version. (The store also refuses
a path and hash that no trainer signed, so this is the first of two locks: docs/artifacts.md.)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION ai.refuse_artifact_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'model version %: its artifact (model_artifact_path, artifact_sha256, '
                            'training_config.validation_model) cannot change once recorded', OLD.id
                USING ERRCODE = 'integrity_constraint_violation', HINT = 'a different model is a new version';
        END $$;
        CREATE TRIGGER model_versions_artifact_fixed BEFORE UPDATE ON ai.model_versions FOR EACH ROW
            WHEN ((OLD.model_artifact_path IS NOT NULL AND NEW.model_artifact_path IS DISTINCT FROM OLD.model_artifact_path)
               OR (OLD.artifact_sha256 IS NOT NULL AND NEW.artifact_sha256 IS DISTINCT FROM OLD.artifact_sha256)
               OR (OLD.training_config -> 'validation_model' IS NOT NULL
                   AND NEW.training_config -> 'validation_model' IS DISTINCT FROM OLD.training_config -> 'validation_model'))
            EXECUTE FUNCTION ai.refuse_artifact_change();
    """)


def downgrade() -> None:
    op.execute("""
        DROP TRIGGER model_versions_artifact_fixed ON ai.model_versions;
        DROP FUNCTION ai.refuse_artifact_change();
    """)
