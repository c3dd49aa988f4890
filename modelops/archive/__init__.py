"""The archive of training data: a tenant's old feedback rows in Parquet files, out of Postgres.

``mover`` moves whole months past ``MODELOPS_ARCHIVE_AFTER_MONTHS`` into one file per tenant, agent
and month (and expires files past ``MODELOPS_ARCHIVE_RETENTION_MONTHS``); ``files`` writes, checks and
reads the files; ``store`` puts them in a directory or any fsspec filesystem; ``manifest`` is the
record in Postgres (ai.training_archive) that says which months are archived; ``reader`` is what a
tenant's training job reads through, as the tenant, refusing any file it cannot verify.
"""
