"""The archive of training data against the real Postgres: old months move to Parquet files, a
retrain reads them and Postgres as one stream and records the same figures as before, retention
deletes expired files, and a month is never in both places nor in neither."""
from __future__ import annotations

import datetime as dt
import uuid

import pyarrow.parquet as pq
import pytest

from modelops import clock, tenants, workflows
from modelops.archive import mover
from modelops.archive.store import open_store
from modelops.retention import add_months
from tests.integration.archive_support import archive_rows, backdate, ids_in_archive, ids_in_postgres
from tests.integration.training_support import queue_run, seed, synthetic_rows, versions_of

pytestmark = pytest.mark.integration

ROWS = 1_500
# months ago of the rows, in turn: two months past a 12-month archive threshold, one recent
MONTHS = [14, 13, 0]


@pytest.fixture
def archive_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELOPS_ARCHIVE_URL", str(tmp_path / "archive"))
    return tmp_path / "archive"


@pytest.fixture
def tenant(owner):
    tenant_id = tenants.create_tenant(f"archive-{uuid.uuid4().hex[:6]}")
    seed(tenant_id, "classification", synthetic_rows("classification", ROWS, tenant_seed=31))
    backdate(owner, tenant_id, MONTHS)
    return tenant_id


def trained(tenant) -> dict:
    outcome = workflows.train(queue_run("classification", tenant), worker="test")
    assert outcome["status"] == "succeeded", outcome
    return next(v for v in versions_of("classification", tenant) if str(v["id"]) == outcome["model_version_id"])


@pytest.mark.parametrize("streaming_rows", ["1", "1000000"], ids=["streamed", "in memory"])
def test_a_retrain_reads_the_archive_and_postgres_and_records_the_figures_it_recorded_before(
        tenant, archive_dir, owner, monkeypatch, streaming_rows):
    monkeypatch.setenv("MODELOPS_STREAMING_ROWS", streaming_rows)
    before_ids = sorted(ids_in_postgres(owner, tenant))
    before = trained(tenant)

    moved = mover.archive_old_rows(clock.now(), worker="test", months=12)
    assert moved["status"] == "done" and moved["parts"] >= 2
    parts = archive_rows(tenant)
    now_month = clock.today().replace(day=1)
    assert sorted({part["month"] for part in parts}) == [add_months(now_month, -14), add_months(now_month, -13)]
    # Postgres keeps the recent rows only; the archive the old ones; together every row once
    in_postgres, in_archive = ids_in_postgres(owner, tenant), ids_in_archive(tenant)
    assert len(in_postgres) == ROWS // 3 and len(in_archive) == 2 * ROWS // 3
    assert sorted(in_postgres + in_archive) == before_ids
    for part in parts:  # partitioned by tenant, agent and month, under the archive's root
        assert part["path"] == f"tenant={tenant}/agent=classification/month={part['month']:%Y-%m}/part-0000.parquet"
        assert (archive_dir / part["path"]).is_file() and part["row_count"] == ROWS // 3

    after = trained(tenant)
    assert after["training_config"]["data"]["archived_parts"] == 2
    assert after["training_config"]["data"]["collected"] == before["training_config"]["data"]["collected"] == ROWS
    for column in ("metrics_detail", "training_samples", "validation_samples", "artifact_sha256"):
        assert after[column] == before[column], column
    assert mover.archive_old_rows(clock.now(), worker="test", months=12)["rows"] == 0  # again: nothing to move


def test_a_file_left_by_an_archiver_that_died_is_read_by_no_one_and_written_again(tenant, archive_dir, owner):
    month = add_months(clock.today().replace(day=1), -14)
    cutoff = add_months(clock.today().replace(day=1), -12)
    before = trained(tenant)
    # an archiver that died after publishing its file, before deleting the rows: claim and file stay
    from modelops.archive import manifest
    from modelops.archive.store import part_path
    from modelops import db

    with db.operator_scope() as connection:
        part = manifest.claim(connection, tenant, "classification", month,
                              lambda n: part_path(tenant, "classification", month, n), "dead-archiver/1", clock.now())
    (archive_dir / part.path).parent.mkdir(parents=True)
    (archive_dir / part.path).write_bytes(b"half a file")
    assert trained(tenant)["metrics_detail"] == before["metrics_detail"]  # the claim's file is not read

    assert mover.archive_month(tenant, "classification", month, cutoff, "test", clock.now()) == ROWS // 3
    (archived,) = archive_rows(tenant)
    assert archived["id"] == part.id and archived["status"] == "archived"
    assert pq.ParquetFile(archive_dir / part.path).metadata.num_rows == ROWS // 3
    assert len(ids_in_postgres(owner, tenant)) == ROWS - ROWS // 3


def test_retention_deletes_archived_files_past_the_period_and_nothing_else(tenant, archive_dir):
    mover.archive_old_rows(clock.now(), worker="test", months=12)
    older, newer = archive_rows(tenant)
    expired = mover.expire_archived(clock.now(), months=13)
    assert expired["deleted_files"] >= 1
    assert not (archive_dir / older["path"]).exists() and (archive_dir / newer["path"]).is_file()
    assert [part["id"] for part in archive_rows(tenant, ("archived", "expired", "writing"))] == [newer["id"]]


def test_the_archive_settings_are_whole_numbers_of_months(monkeypatch):
    monkeypatch.setenv("MODELOPS_ARCHIVE_AFTER_MONTHS", "0")
    with pytest.raises(ValueError, match="MODELOPS_ARCHIVE_AFTER_MONTHS must be a whole number of months"):
        mover.archive_old_rows(clock.now(), worker="test")


def test_an_fsspec_url_stores_the_files_as_a_directory_does(tenant, tmp_path, monkeypatch, owner):
    monkeypatch.setenv("MODELOPS_ARCHIVE_URL", f"memory://archive-{uuid.uuid4().hex[:6]}")
    before = trained(tenant)
    mover.archive_old_rows(clock.now(), worker="test", months=12)
    assert open_store().exists(archive_rows(tenant)[0]["path"])
    assert trained(tenant)["metrics_detail"] == before["metrics_detail"]
    assert len(ids_in_postgres(owner, tenant)) == ROWS // 3
