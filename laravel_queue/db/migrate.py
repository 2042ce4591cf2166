"""Bring a database up to the newest schema (`lq migrate`; also done on first use)."""

from __future__ import annotations

import logging
import threading
import time

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from .schema import VERSION_TABLE

# Alembic logs "Context impl SQLiteImpl." and "Will assume non-transactional DDL." at INFO on
# every migration check, which lands in every worker's log; its warnings still show.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)

SCRIPT_LOCATION = "laravel_queue.db:migrations"

# Alembic's `context` and `op` are module-level proxies: one migration per process at a time.
_lock = threading.Lock()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def migrate(engine: Engine, attempts: int = 3) -> bool:
    """Upgrade to head; True if anything was applied. Safe to run from many processes:
    one that loses a race to create the tables sees them on its next attempt."""
    if current_revision(engine) == head_revision():
        return False
    with _lock:
        return _upgrade(engine, attempts)


def _upgrade(engine: Engine, attempts: int) -> bool:
    config = _config()
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
            return True
        except DBAPIError:
            if current_revision(engine) == head_revision():
                return False  # another process migrated meanwhile
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)
    return False
