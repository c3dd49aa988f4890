"""Tenancy holds in the archive of training data, as an attacker with the store or a database
session would try it: a tenant sees and reads only its own archived months; it may not write their
records; a file planted in its folder is never read; a file swapped for another tenant's, or
forged, or a record pointed at another tenant's file, is refused before any of its rows is used,
and the training run fails naming the file."""
from __future__ import annotations

import shutil
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from modelops import clock, db, tenants, workflows
from modelops.archive import mover
from modelops.archive.files import ArchiveIntegrityError
from tests.integration.archive_support import archive_rows, backdate
from tests.integration.training_support import queue_run, run_row, seed, synthetic_rows, versions_of

pytestmark = pytest.mark.integration

ROWS = 600


@pytest.fixture
def archived(owner, tmp_path, monkeypatch):
    """Two tenants whose two old months are archived; (mine, other, archive directory)."""
    monkeypatch.setenv("MODELOPS_ARCHIVE_URL", str(tmp_path / "archive"))
    made = []
    for seed_of in (41, 42):
        tenant = tenants.create_tenant(f"archive-isolation-{uuid.uuid4().hex[:6]}")
        seed(tenant, "classification", synthetic_rows("classification", ROWS, tenant_seed=seed_of))
        backdate(owner, tenant, [14, 13, 0])
        made.append(tenant)
    mover.archive_old_rows(clock.now(), worker="test", months=12)
    return made[0], made[1], tmp_path / "archive"


def metrics_of_training(tenant) -> dict:
    outcome = workflows.train(queue_run("classification", tenant), worker="test")
    assert outcome["status"] == "succeeded", outcome
    version = next(v for v in versions_of("classification", tenant) if str(v["id"]) == outcome["model_version_id"])
    return {"metrics": version["metrics_detail"], "collected": version["training_config"]["data"]["collected"]}


def refused_training(tenant, path: str) -> None:
    run_id = queue_run("classification", tenant)
    with pytest.raises(ArchiveIntegrityError, match=f"archive file {path} refused"):
        workflows.train(run_id, worker="test")
    run = run_row(run_id)
    assert run["status"] == "failed" and path in run["error"]


def test_a_tenant_sees_only_its_own_archive_records_and_cannot_write_any(archived):
    mine, other, _ = archived
    with db.tenant_scope(mine) as connection:
        seen = connection.execute(text("SELECT DISTINCT tenant_id FROM ai.training_archive")).scalars().all()
    assert seen == [mine]
    for statement in ("UPDATE ai.training_archive SET sha256 = 'x'", "DELETE FROM ai.training_archive",
                      f"INSERT INTO ai.training_archive (tenant_id, agent_type, month, part, status, path, claimed_by,"
                      f" claimed_at) VALUES ('{mine}', 'classification', '2020-01-01', 0, 'archived', 'p', 'me', now())"):
        with pytest.raises(DBAPIError, match="permission denied"):
            with db.tenant_scope(mine) as connection:
                connection.execute(text(statement))


def test_files_planted_in_a_tenants_folder_are_never_read(archived):
    mine, other, root = archived
    before = metrics_of_training(mine)
    theirs = archive_rows(other)[0]
    month_folder = root / archive_rows(mine)[0]["path"].rsplit("/", 1)[0]
    # the name the month's next part would have, and a name of the attacker's choosing
    shutil.copy(root / theirs["path"], month_folder / "part-0001.parquet")
    shutil.copy(root / theirs["path"], month_folder / "extra.parquet")
    assert metrics_of_training(mine) == before


def test_a_file_swapped_for_another_tenants_is_refused(archived):
    mine, other, root = archived
    target = archive_rows(mine)[0]["path"]
    shutil.copy(root / archive_rows(other)[0]["path"], root / target)
    refused_training(mine, target)


def test_a_forged_file_with_the_tenants_own_id_is_refused(archived):
    mine, _, root = archived
    target = archive_rows(mine)[0]["path"]
    table = pq.read_table(root / target)
    labels = pa.array(['{"category": "Travel"}'] * len(table))  # every row relabelled, as a poisoner would
    pq.write_table(table.set_column(table.schema.get_field_index("expected_output"), "expected_output", labels),
                   root / target)
    refused_training(mine, target)


def test_a_record_pointed_at_another_tenants_file_is_refused(archived, owner):
    mine, other, _ = archived
    theirs = archive_rows(other)[0]
    # the other tenant's file by a path that climbs out of this tenant's folder (the same path is unique)
    climbing = f"tenant={mine}/../{theirs['path']}"
    with owner.begin() as connection:  # the owner's session, lifting every lock a runtime role has
        connection.execute(text("""UPDATE ai.training_archive SET path = :path, sha256 = :sha256, row_count = :rows,
                rows_digest = :digest, signature = :signature WHERE id = :id"""),
                           {"path": climbing, "sha256": theirs["sha256"], "rows": theirs["row_count"],
                            "digest": theirs["rows_digest"], "signature": theirs["signature"],
                            "id": archive_rows(mine)[0]["id"]})
    refused_training(mine, climbing)
