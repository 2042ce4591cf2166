"""Table definitions (SQLAlchemy Core).

`failed_jobs` has Laravel's columns exactly, so a PHP team reads the same table. The `lq_*`
tables are ours: the SQL cache store and the durable delayed-job set.
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

lq_cache = Table(
    "lq_cache",
    metadata,
    Column("key", String(191), primary_key=True),
    Column("value", Text, nullable=True),
    Column("counter", BigInteger, nullable=False, default=0),
    Column("expires_at", Double, nullable=True),
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
