"""Loading the models a job carries, fresh, when it runs (Laravel: `SerializesModels`'
`restoreModel`, and `ModelNotFoundException` for a row that is gone).

A message carries each model as a `ModelKey` (class and primary key). Before the job runs,
every `ModelKey` in its state — an attribute, or inside a list, tuple, set or dict — is
replaced by the row as it is now, loaded with one query per model class however many the
job holds (Laravel loads a collection with one `whereIn` too). A model class is found among
the modules the worker has loaded, as an enum's or a dataclass's is (`encoding.loaded_class`).
SQLAlchemy models load in a session from the factory the app gives
(`QueueManager(models=sessionmaker(engine))`), kept open while the job runs so lazy
relationships still load, and closed when it ends: what the job does not commit is rolled
back. Django models load through their default manager (the database Django's routers
choose), on the worker thread's own connection.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from laravel_queue.exceptions import ConfigurationError, ModelNotFoundError
from laravel_queue.messages.encoding import loaded_class
from laravel_queue.messages.model_keys import ModelKey

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SessionFactory = Callable[[], "Session"]


class ModelLoader:
    """Where a worker loads the models of its jobs from (`QueueManager(models=...)`): a
    SQLAlchemy session factory, or None when the app has only Django models (or none)."""

    def __init__(self, sessions: SessionFactory | None = None) -> None:
        if sessions is not None and not callable(sessions):
            raise ConfigurationError(
                f"models= takes a SQLAlchemy session factory (sessionmaker(engine)), got "
                f"{sessions!r:.80}"
            )
        self.sessions = sessions

    def for_run(self) -> RunModels:
        """The models of one run of a job: loaded on demand, closed with `close()`."""
        return RunModels(self.sessions)


class RunModels:
    """The models of one run of one job, and the SQLAlchemy session they live in."""

    def __init__(self, sessions: SessionFactory | None) -> None:
        self._sessions = sessions
        self.session: Session | None = None

    def restore(self, state: dict[str, Any]) -> dict[str, Any]:
        """`state` with each `ModelKey` replaced by its row; `ModelNotFoundError` when a row
        is gone. A state with no model is returned as it is, after one walk."""
        keys = list(_keys_in(state.values()))
        if not keys:
            return state
        rows: dict[ModelKey, object] = {}
        by_model: dict[str, list[ModelKey]] = defaultdict(list)
        for key in keys:
            by_model[key.model].append(key)
        for model, wanted in by_model.items():
            rows.update(self._load(loaded_class(model), model, wanted))
        return {name: _replaced(value, rows) for name, value in state.items()}

    def __enter__(self) -> RunModels:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the run's session (what the job did not commit is rolled back)."""
        if self.session is not None:
            session, self.session = self.session, None
            session.close()

    def _load(self, cls: type, model: str, wanted: list[ModelKey]) -> dict[ModelKey, object]:
        keys = list(dict.fromkeys(key.key for key in wanted))  # each once, in order
        if hasattr(cls, "_sa_class_manager"):
            found = self._load_sqlalchemy(cls, keys)
        else:
            found = _load_django(cls, keys)
        missing = [key for key in keys if key not in found]
        if missing:
            raise ModelNotFoundError(model.replace(":", "."), missing)
        return {ModelKey(model, key): found[key] for key in keys}

    def _load_sqlalchemy(self, cls: type, keys: list[Any]) -> dict[Any, object]:
        from sqlalchemy import inspect, select, tuple_

        if self._sessions is None:
            raise ConfigurationError(
                f"the job carries a {cls.__module__}.{cls.__qualname__} (a SQLAlchemy model) "
                "and this worker has no session to load it with: create the manager with "
                "QueueManager(models=sessionmaker(engine))"
            )
        if self.session is None:
            self.session = self._sessions()
        columns: tuple[Any, ...] = tuple(inspect(cls).primary_key)
        where = (
            columns[0].in_(keys)
            if len(columns) == 1
            else tuple_(*columns).in_([tuple(key) for key in keys])
        )
        found: dict[Any, object] = {}
        rows: list[Any] = list(self.session.scalars(select(cls).where(where)))
        for row in rows:
            identity: tuple[Any, ...] = inspect(row).identity or ()
            found[identity[0] if len(identity) == 1 else identity] = row
        return found


def _load_django(cls: Any, keys: list[Any]) -> dict[Any, object]:
    found: dict[Any, object] = {}
    for row in cls._default_manager.filter(pk__in=keys):
        key = row.pk
        found[tuple(key) if isinstance(key, (list, tuple)) else key] = row
    return found


def _keys_in(values: Iterable[Any]) -> Iterable[ModelKey]:
    for value in values:
        if isinstance(value, ModelKey):
            yield value
        elif isinstance(value, (list, tuple, set, frozenset)):
            yield from _keys_in(value)
        elif isinstance(value, dict):
            yield from _keys_in(value.values())


def _replaced(value: Any, rows: dict[ModelKey, object]) -> Any:
    if isinstance(value, ModelKey):
        return rows[value]
    if isinstance(value, list):
        return [_replaced(item, rows) for item in value]
    if isinstance(value, tuple):
        return tuple(_replaced(item, rows) for item in value)
    if isinstance(value, (set, frozenset)):
        return type(value)(_replaced(item, rows) for item in value)
    if isinstance(value, dict):
        return {key: _replaced(item, rows) for key, item in value.items()}
    return value
