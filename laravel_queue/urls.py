"""What kind of server a URL names: the one place laravel_queue tells a Redis URL apart."""

from __future__ import annotations

from kombu.utils.url import maybe_sanitize_url

# URLs Kombu opens as a Redis broker.
KOMBU_REDIS_SCHEMES = ("redis://", "rediss://", "redis+socket://")
# URLs redis-py opens (the cache store): a broker URL of these schemes can serve as the cache.
REDIS_PY_SCHEMES = ("redis://", "rediss://", "unix://")
# Kombu's SQLAlchemy transport (`sqla+sqlite:///q.db`), and the same with reliable fetch
# (docs/internals/reliable-fetch.md) under an alias of its own: a `sqla+` URL chooses its
# transport over `broker_transport`, so a bound app's `sqla+` URL becomes `lqsql+`.
SQL_BROKER_PREFIX = "sqla+"
RELIABLE_SQL_PREFIX = "lqsql+"
RELIABLE_SQL_TRANSPORT = "laravel_queue.transport.sql:Transport"
# Kombu's Redis transport with reliable fetch (docs/internals/reliable-fetch.md), used for
# `redis://` brokers unless the app names another transport or sets `reliable_fetch: False`
# in its transport options.
RELIABLE_REDIS_TRANSPORT = "laravel_queue.transport.redis:Transport"


def is_redis_broker(url: str) -> bool:
    return url.startswith(KOMBU_REDIS_SCHEMES)


def is_redis_cache(url: str) -> bool:
    return url.startswith(REDIS_PY_SCHEMES)


def is_sql_broker(url: str) -> bool:
    """A broker Kombu reaches through SQLAlchemy (one that polls)."""
    return url.startswith((SQL_BROKER_PREFIX, RELIABLE_SQL_PREFIX))


# Database URLs people write, and the driver laravel_queue installs for each: SQLAlchemy's own
# defaults (psycopg2, mysqlclient) are not installed, and `postgres://` is Heroku's spelling.
SQL_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
}


def normalize_url(url: str) -> str:
    """`postgres://` and `postgresql://` as `postgresql+psycopg://`, `mysql://` as
    `mysql+pymysql://`; a URL naming its driver is left as it is."""
    scheme, sep, rest = url.partition("://")
    return f"{SQL_DRIVERS[scheme]}://{rest}" if sep and scheme in SQL_DRIVERS else url


def mask_url(url: str) -> str:
    """The URL with its password shown as `***`, for messages and logs (Kombu's own
    sanitiser, as Celery's banner uses; it leaves out a query string)."""
    return str(maybe_sanitize_url(url, mask="***"))
