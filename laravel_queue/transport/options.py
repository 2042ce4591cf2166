"""Transport options the SQL transports must keep away from SQLAlchemy.

Apart from `sql` so that binding an app (which filters them) does not load SQLAlchemy.
"""

from __future__ import annotations

# Transport options that are not create_engine() arguments (Kombu's SQL transport passes
# them all on, so an app setting one for another broker crashed it).
NOT_ENGINE_OPTIONS = frozenset(
    {
        "fetch_heartbeat_ttl",
        "fetch_heartbeat_interval",
        "unacked_restore_interval",
        "visibility_timeout",
        "polling_interval",
        "reliable_fetch",
    }
)
