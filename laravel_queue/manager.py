"""`QueueManager`: configuration, connections, stores, and the current manager (DESIGN §3.1).

With no arguments everything runs on one SQLite file (Kombu's SQLAlchemy transport as the
broker, the same file as the store), in `$LQ_HOME` or else the app module's project folder
(`lq_home`). Give a Celery app and URLs to use Redis, RabbitMQ, PostgreSQL or MySQL instead.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import sys
import threading
from functools import cached_property
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

from celery import Celery

from laravel_queue.bus.host import DispatchRecorder
from laravel_queue.cache.base import CacheStore
from laravel_queue.cache.memory import MemoryStore
from laravel_queue.cache.redis import RedisStore
from laravel_queue.celery_app.configure import configure_app
from laravel_queue.connections.base import Connection, PushRecorder
from laravel_queue.connections.celery import CeleryConnection
from laravel_queue.connections.failover import FailoverConnection, failover_members
from laravel_queue.connections.routing import JobClasses, QueueRoutes
from laravel_queue.delayed.base import DelayedStore
from laravel_queue.delayed.redis import RedisDelayedStore
from laravel_queue.exceptions import ConfigurationError
from laravel_queue.failed.store import FailedJobs
from laravel_queue.jobs.models import ModelLoader, SessionFactory
from laravel_queue.jobs.options import WorkerOptions
from laravel_queue.metrics.recorder import MetricsRecorder
from laravel_queue.metrics.store import MetricsStore
from laravel_queue.runtime.sync import SyncConnection
from laravel_queue.status.cancels import Cancels
from laravel_queue.status.store import StatusStore
from laravel_queue.transport.deadline import DISPATCH_TIMEOUT_SECONDS, socket_timeout
from laravel_queue.urls import is_redis_cache, mask_url, normalize_url

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from laravel_queue.bus.batch_repository import BatchRepository

DEFAULT_CONNECTION = "default"
# How long recording a failure may wait for the database before it is spooled: well below the
# 5 s or more between a job's soft time limit and the hard limit that kills its process.
STORE_TIMEOUT_SECONDS = 2.0
# The largest job state dispatch accepts, and the largest message body a worker runs; 0 for
# no limit.
MAX_PAYLOAD_BYTES = 1024 * 1024
SQLITE_FILE = "laravel_queue.sqlite"
# How long a job's status is kept after its last transition.
STATUS_TTL_SECONDS = 24 * 3600.0
# How long the metrics of each minute are kept (Horizon trims its metrics after a day too).
METRICS_WINDOW_SECONDS = 24 * 3600.0

logger = logging.getLogger("laravel_queue")

_current: QueueManager | None = None
_current_lock = threading.RLock()  # current_manager() creates one, which sets itself
# The app modules imported for `--app`/`LQ_APP`, each once: a module that creates no manager
# leaves the embedded default to be made, instead of being asked again (and again).
_imported_apps: dict[str, ModuleType] = {}


def current_manager() -> QueueManager:
    """The most recently created manager (like Celery's current app).

    With none yet, the app module named by `LQ_APP` is imported (its manager becomes
    current); failing that, the embedded SQLite default is made — and said so, once, since a
    job dispatched from a process that never imported the app module would otherwise land in
    a local file without a word.
    """
    global _current
    current = _current
    if current is not None:  # every dispatch asks: no lock, no environment read
        return current
    with _current_lock:
        app_path = os.environ.get("LQ_APP")
        if _current is None and app_path and app_path.partition(":")[0] not in _imported_apps:
            load_manager(app_path)
        if _current is None:
            home = lq_home(*_imported_apps.values())
            _current = QueueManager(home=home)
            if _imported_apps:  # the app module is there and chose the default
                logger.warning(
                    "%s created no QueueManager: using the embedded SQLite default at %s",
                    ", ".join(_imported_apps),
                    home / SQLITE_FILE,
                )
            else:
                logger.warning(
                    "no QueueManager was created in this process: using the embedded SQLite "
                    "default at %s (import your app module, or set LQ_APP=module)",
                    home / SQLITE_FILE,
                )
        return _current


def has_current() -> bool:
    """Whether a manager was created (or loaded) in this process."""
    return _current is not None


def load_manager(app_path: str) -> QueueManager:
    """The manager named by `module[:attribute]` (`lq --app`, `LQ_APP`): importing the module
    makes its manager current; `:attribute` names a QueueManager or a Celery app."""
    module_name, _, attribute = app_path.partition(":")
    module = _import_app(module_name)
    if not attribute:
        return current_manager()
    target = getattr(module, attribute, None)
    if isinstance(target, QueueManager):
        return target
    if isinstance(target, Celery):
        return manager_for_app(target)
    raise ConfigurationError(f"'{app_path}' is neither a QueueManager nor a Celery app")


def _import_app(module_name: str) -> ModuleType:
    if module_name in _imported_apps:
        return _imported_apps[module_name]
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"cannot import '{module_name}' given by --app/LQ_APP: {exc}"
        ) from exc
    _imported_apps[module_name] = module
    return module


def manager_for_app(app: Celery) -> QueueManager:
    """The manager bound to `app`; a Celery app nobody bound gets a default one."""
    manager = getattr(app, "laravel_queue", None)
    if manager is None:
        manager = QueueManager(app, make_current=False)
    return manager


def lq_home(*app_modules: ModuleType) -> Path:
    """Where the embedded SQLite file and the spools live: `$LQ_HOME`; else the project folder
    of the app module (the folder its top-level package is imported from, as Laravel keeps
    `database/database.sqlite` in the project), so a worker and `lq failed` started in
    different folders share one file; else the working directory."""
    if os.environ.get("LQ_HOME"):
        return Path(os.environ["LQ_HOME"])
    for module in app_modules:
        root = project_folder(module)
        if root is not None:
            return root
    return Path(os.getcwd())


def project_folder(module: ModuleType) -> Path | None:
    """The folder `module`'s top-level package is imported from (`/srv/shop` for
    `/srv/shop/shop/app.py`), or None for a module with no file (a REPL, `python -c`)."""
    file = getattr(module, "__file__", None)
    if not file:
        return None
    spec = getattr(module, "__spec__", None)
    name = spec.name if spec is not None else module.__name__
    depth = name.count(".") + (Path(file).name == "__init__.py")
    return Path(file).resolve().parents[depth]


def _calling_module() -> ModuleType | None:
    """The module whose code created the manager (the first frame outside this package)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _is_ours(frame.f_globals.get("__name__", "")):
        frame = frame.f_back
    return None if frame is None else sys.modules.get(frame.f_globals.get("__name__", ""))


def _is_ours(module_name: str) -> bool:
    return module_name == __package__ or module_name.startswith(f"{__package__}.")


class QueueManager:
    def __init__(
        self,
        celery_app: Celery | None = None,
        *,
        database_url: str | None = None,
        cache_url: str | None = None,
        connections: dict[str, str] | None = None,
        default_queue: str = "default",
        prefix: str = "lq:",
        capture_plain_tasks: bool = True,
        failed_spool: str | Path | None = None,
        store_timeout: float = STORE_TIMEOUT_SECONDS,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
        dispatch_timeout: float = DISPATCH_TIMEOUT_SECONDS,
        status_ttl: float | None = STATUS_TTL_SECONDS,
        metrics_window: float | None = METRICS_WINDOW_SECONDS,
        wait_thresholds: dict[str, float] | None = None,
        home: str | Path | None = None,
        models: SessionFactory | None = None,
        make_current: bool = True,
    ) -> None:
        caller = _calling_module()
        self.home = Path(home) if home is not None else lq_home(*filter(None, [caller]))
        home_file = self.home / SQLITE_FILE
        self.app = celery_app or _embedded_app(home_file)
        self.default_queue = default_queue
        self.prefix = prefix
        self.database_url = normalize_url(database_url or f"sqlite:///{home_file}")
        self.cache_url = cache_url or self._default_cache_url()
        self.capture_plain_tasks = capture_plain_tasks
        self.failed_spool = Path(failed_spool) if failed_spool else self._default_spool()
        self.store_timeout = store_timeout
        self.max_payload_bytes = max_payload_bytes
        if dispatch_timeout <= 0:
            raise ConfigurationError(
                f"dispatch_timeout must be over 0 seconds, got {dispatch_timeout}"
            )
        self.dispatch_timeout = dispatch_timeout
        self.status_ttl = status_ttl or 0.0
        self.metrics_window = metrics_window or 0.0
        self.wait_thresholds = dict(wait_thresholds or {})
        self.worker_options = WorkerOptions()
        self.models = ModelLoader(models)
        self.push_recorder: PushRecorder | None = None  # Queue.fake()
        self.dispatch_recorder: DispatchRecorder | None = None  # Bus.fake()
        self.routes = QueueRoutes()  # Queue.route / Queue.forward
        self._connections: dict[str, Connection] = {
            DEFAULT_CONNECTION: CeleryConnection(self, DEFAULT_CONNECTION, self.app)
        }
        failovers: dict[str, list[str]] = {}
        for name, url in (connections or {}).items():
            members = failover_members(url)
            if members is None:
                self._connections[name] = self._make_connection(name, url)
            else:
                failovers[name] = members
        for name, members in failovers.items():  # once the connections they list exist
            self._connections[name] = self._make_failover(name, members, set(failovers))
        for connection in self._connections.values():
            if isinstance(connection, CeleryConnection):
                _bind_app(connection.app, self)
        self._schema_ready = False
        if make_current:
            global _current
            with _current_lock:
                _current = self

    @classmethod
    def from_env(cls, celery_app: Celery | None = None, **kwargs: Any) -> QueueManager:
        """Read LQ_BROKER_URL, LQ_DATABASE_URL and LQ_CACHE_URL (each optional)."""
        broker = os.environ.get("LQ_BROKER_URL")
        if celery_app is None and broker:
            celery_app = Celery("laravel_queue", broker=broker, set_as_current=False)
        kwargs.setdefault("database_url", os.environ.get("LQ_DATABASE_URL") or None)
        kwargs.setdefault("cache_url", os.environ.get("LQ_CACHE_URL") or None)
        return cls(celery_app, **kwargs)

    # -- connections -------------------------------------------------------------------------

    def connection(self, name: str | None = None) -> Connection:
        key = name or DEFAULT_CONNECTION
        if key == "sync" and key not in self._connections:
            self._connections[key] = SyncConnection(self, key)
        try:
            return self._connections[key]
        except KeyError:
            known = ", ".join(sorted(self._connections))
            raise ConfigurationError(
                f"no queue connection named '{key}'; configured: {known} "
                "(add it with QueueManager(connections={...}))"
            ) from None

    @property
    def connections(self) -> dict[str, Connection]:
        return dict(self._connections)

    def route(
        self, classes: JobClasses, queue: str | None = None, connection: str | None = None
    ) -> None:
        """Send `classes` (job classes or their dotted names) and their subclasses to `queue`
        and/or `connection` unless a job chooses its own (Laravel 13: `Queue::route`)."""
        if connection is not None:
            self.connection(connection)  # an unknown name is refused now, not at a dispatch
        self.routes.route(classes, queue, connection)

    def forward(self, queue: str, to: str | None = None, connection: str | None = None) -> None:
        """Whatever names the queue `queue` acts on `to` (on `connection`, when given):
        pushes, workers, sizes, clearing, pausing, retries (Laravel 13: `Queue::forward`)."""
        if connection is not None:
            self.connection(connection)
        self.routes.forward(queue, to, connection)

    def connection_for_app(self, app: Celery) -> Connection:
        for connection in self._connections.values():
            if isinstance(connection, CeleryConnection) and connection.app is app:
                return connection
        return self._connections[DEFAULT_CONNECTION]

    def _make_failover(
        self, name: str, members: list[str], failovers: set[str]
    ) -> FailoverConnection:
        unknown = [m for m in members if m not in self._connections or m in failovers]
        if unknown:
            known = ", ".join(sorted(self._connections))
            raise ConfigurationError(
                f"failover connection '{name}' lists {', '.join(map(repr, unknown))}, which "
                f"is not a connection of this manager (configured: {known}; a failover "
                "connection cannot list another failover connection or itself)"
            )
        return FailoverConnection(self, name, [self._connections[m] for m in members])

    def _make_connection(self, name: str, url: str) -> Connection:
        if url == "sync":
            return SyncConnection(self, name)
        app = Celery(self.app.main, set_as_current=False)
        app.conf.update({k: v for k, v in self.app.conf.changes.items() if k != "broker_url"})
        app.conf.broker_url = url
        app.conf.broker_transport_options = {}
        return CeleryConnection(self, name, app)

    # -- stores ------------------------------------------------------------------------------

    # The SQL stores import SQLAlchemy (and the migrations Alembic) on first use, not here: a
    # worker on Redis loads neither until a failure or a batch count is written, which keeps
    # a third of a second off its start-up.

    @cached_property
    def engine(self) -> Engine:
        from laravel_queue.db.engine import make_engine

        return make_engine(self.database_url)

    def ensure_schema(self) -> None:
        """Run the migrations once per process (cheap when already at head)."""
        if not self._schema_ready:
            from laravel_queue.db.migrate import migrate

            migrate(self.engine)
            self._schema_ready = True

    @cached_property
    def cache(self) -> CacheStore:
        url = self.cache_url
        if is_redis_cache(url):
            return RedisStore(
                url, self.prefix, socket_timeout=socket_timeout(self.dispatch_timeout)
            )
        if url.startswith("memory://"):
            return MemoryStore(self.prefix)
        from laravel_queue.cache.sql import SqlStore
        from laravel_queue.db.engine import make_engine

        self.ensure_schema()
        engine = self.engine if url == self.database_url else make_engine(url)
        return SqlStore(engine, self.prefix)

    @cached_property
    def status(self) -> StatusStore | None:
        """Each job's status (`Queue.status`), kept `status_ttl` seconds after its last
        transition; None when `status_ttl` is 0 or None (tracking off)."""
        return StatusStore(self.cache, self.status_ttl) if self.status_ttl > 0 else None

    @cached_property
    def metrics_store(self) -> MetricsStore:
        """The metrics in the cache store (`Queue.metrics`, `lq stats`, Prometheus)."""
        return MetricsStore(self.cache, self.metrics_window)

    @cached_property
    def metrics(self) -> MetricsRecorder | None:
        """What this process's runs add to the metrics; None when `metrics_window` is 0 or
        None (metrics off)."""
        return MetricsRecorder(self.metrics_store) if self.metrics_window > 0 else None

    @cached_property
    def cancels(self) -> Cancels:
        """The cancelled jobs (`Queue.cancel`), which every worker checks."""
        return Cancels(self.cache)

    @cached_property
    def delayed(self) -> DelayedStore:
        cache = self.cache
        if isinstance(cache, RedisStore):
            return RedisDelayedStore(cache.client, self.prefix)
        from laravel_queue.delayed.sql import SqlDelayedStore

        self.ensure_schema()
        return SqlDelayedStore(self.engine)

    @cached_property
    def batches(self) -> BatchRepository:
        """The `job_batches` table, in the failed-jobs database."""
        from laravel_queue.bus.batch_repository import BatchRepository

        self.ensure_schema()
        return BatchRepository(self.engine)

    @cached_property
    def failed(self) -> FailedJobs:
        """Failed jobs (Laravel: the queue.failer and the queue:retry family)."""
        return FailedJobs(self, self.failed_spool)

    def before_exit(self) -> None:
        """Write the statuses and metrics still waiting to be written (a pool process ends
        without running its `atexit` hooks)."""
        store = self.__dict__.get("status")
        if store is not None:
            store.later.flush()
        metrics = self.__dict__.get("metrics")
        if metrics is not None:
            metrics.flush()

    def after_fork(self) -> None:
        """Drop connections inherited from a parent process (prefork pool children)."""
        self._drop_connections(close=False)

    def close(self) -> None:
        """Release the database and cache connections (they reopen if used again)."""
        self._drop_connections(close=True)

    def _drop_connections(self, *, close: bool) -> None:
        # `close=False` leaves a parent's sockets to the parent (SQLAlchemy: dispose after fork)
        if "engine" in self.__dict__:
            self.engine.dispose(close=close)
        if "cache" in self.__dict__:
            self.cache.close()

    @staticmethod
    def mask(url: str) -> str:
        return mask_url(url)

    def _default_spool(self, kind: str = "failed") -> Path:
        """One spool per database, so a record is always drained into the right one."""
        digest = hashlib.sha1(self.database_url.encode()).hexdigest()[:12]
        return self.home / ".lq" / f"{kind}-spool-{digest}.jsonl"

    @property
    def batch_spool(self) -> Path:
        """Where batch counts wait while the database cannot be written (beside the failed
        jobs' spool)."""
        return self.failed_spool.with_name(self._default_spool("batch").name)

    def _default_cache_url(self) -> str:
        broker = str(self.app.conf.broker_url or "")
        if is_redis_cache(broker):
            return broker
        return self.database_url


def _embedded_app(sqlite_file: Path) -> Celery:
    from laravel_queue.db.engine import use_wal  # the embedded default runs on SQL: load the driver

    use_wal(sqlite_file)  # several processes share the file: readers must not block writers
    app = Celery("laravel_queue", set_as_current=False)
    app.conf.broker_url = f"sqla+sqlite:///{sqlite_file}"
    # Kombu's SQLAlchemy transport hands every transport option to create_engine(), so only
    # engine arguments may go here (a `polling_interval` would crash it).
    app.conf.broker_transport_options = {"connect_args": {"timeout": 30}}
    return app


def _bind_app(app: Celery, manager: QueueManager) -> None:
    app.laravel_queue = manager
    configure_app(app, manager.dispatch_timeout)
