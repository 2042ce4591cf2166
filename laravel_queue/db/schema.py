"""Table definitions (SQLAlchemy Core).

`failed_jobs` and `job_batches` have Laravel's columns exactly, so a PHP team reads the same
tables. The `lq_*` tables are ours: the SQL cache store, the durable delayed-job set and what
each job of a batch has counted for.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.mysql import LONGTEXT

metadata = MetaData()
"""Include it in your own Alembic `target_metadata` to see laravel_queue's tables there."""

VERSION_TABLE = "lq_alembic_version"

LongText = Text().with_variant(LONGTEXT(), "mysql", "mariadb")

failed_jobs = Table(
    "failed_jobs",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("uuid", String(191), nullable=False, unique=True),
    # Laravel declares these `text`; VARCHAR(191) reads the same from PHP and, unlike TEXT,
    # can be indexed on MySQL/MariaDB.
    Column("connection", String(191), nullable=False),
    Column("queue", String(191), nullable=False),
    Column("payload", LongText, nullable=False),
    Column("exception", LongText, nullable=False),
    Column("failed_at", DateTime, nullable=False, server_default=func.current_timestamp()),
    Index("failed_jobs_connection_queue_failed_at_index", "connection", "queue", "failed_at"),
)

CACHE_EXPIRY_INDEX = "lq_cache_expires_at_index"
lq_cache = Table(
    "lq_cache",
    metadata,
    Column("key", String(191), primary_key=True),
    Column("value", Text, nullable=True),
    Column("counter", BigInteger, nullable=False, default=0),
    Column("expires_at", Double, nullable=True),
    Index(CACHE_EXPIRY_INDEX, "expires_at"),
)

lq_delayed_jobs = Table(
    "lq_delayed_jobs",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("connection", String(191), nullable=False),
    Column("queue", String(191), nullable=False),
    Column("available_at", Double, nullable=False),
    Column("claimed_until", Double, nullable=True),
    Column("claim", String(64), nullable=True),
    Column("message", LongText, nullable=False),
    Index("lq_delayed_jobs_due_index", "connection", "queue", "available_at"),
)

job_batches = Table(
    "job_batches",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(191), nullable=False),
    Column("total_jobs", Integer, nullable=False),
    Column("pending_jobs", Integer, nullable=False),
    Column("failed_jobs", Integer, nullable=False),
    Column("failed_job_ids", LongText, nullable=False),
    Column("options", LongText, nullable=True),
    Column("cancelled_at", Integer, nullable=True),
    Column("created_at", Integer, nullable=False),
    Column("finished_at", Integer, nullable=True),
)

# One row per job of a batch once it has counted: "done" or "failed". Counting is keyed on
# the job's uuid, so a job run twice (redelivered after a crash, retried after a failure)
# changes the batch's counters once per outcome, never twice.
lq_batch_jobs = Table(
    "lq_batch_jobs",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("job_uuid", String(64), primary_key=True),
    Column("outcome", String(8), nullable=False),
)

# The tags of each failed job (Horizon finds failed jobs by tag): `failed_jobs` keeps
# Laravel's columns, so they are indexed here, by tag. Kept by the failed-jobs repository; a
# row deleted by another program leaves its tags behind, harmless (searches join the table)
# and removed by the next flush or prune.
lq_failed_job_tags = Table(
    "lq_failed_job_tags",
    metadata,
    Column("tag", String(191), primary_key=True),
    Column("failed_job_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
)
