"""What kind of server a URL names: the one place laravel_queue tells a Redis URL apart."""

from __future__ import annotations

# URLs Kombu opens as a Redis broker.
KOMBU_REDIS_SCHEMES = ("redis://", "rediss://", "redis+socket://")
# URLs redis-py opens (the cache store): a broker URL of these schemes can serve as the cache.
REDIS_PY_SCHEMES = ("redis://", "rediss://", "unix://")


def is_redis_broker(url: str) -> bool:
    return url.startswith(KOMBU_REDIS_SCHEMES)


def is_redis_cache(url: str) -> bool:
    return url.startswith(REDIS_PY_SCHEMES)
