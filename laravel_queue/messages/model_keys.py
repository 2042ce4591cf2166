"""Models in a job's state travel as their class and primary key, never their columns
(Laravel: `SerializesModels` and `ModelIdentifier`).

A SQLAlchemy mapped instance or a Django model instance is recognised without importing
either library: a mapped class carries SQLAlchemy's class manager, and a Django model is only
possible once `django.db.models` is loaded. The worker turns each `ModelKey` back into a row
read fresh from the database when the job runs (`jobs.models`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from laravel_queue.exceptions import JobEncodeError

SQLALCHEMY = "sqlalchemy"
DJANGO = "django"


@dataclass(frozen=True)
class ModelKey:
    """A model as a message carries it: where its class lives and its primary key (a tuple
    for a composite key). In a worker it stands in for the model until the run loads it."""

    model: str
    """`module:QualName` of the model class, e.g. `shop.models:Podcast`."""
    key: Any
    """The primary key value, or a tuple of them for a composite key."""

    @property
    def dotted(self) -> str:
        """`shop.models.Podcast`: the class as a tag or a message names it."""
        return self.model.replace(":", ".")

    def __str__(self) -> str:
        key = ", ".join(map(repr, self.key)) if isinstance(self.key, tuple) else repr(self.key)
        return f"{self.dotted}[{key}]"


def orm_of(value: object) -> str | None:
    """`"sqlalchemy"` or `"django"` when `value` is a model instance of that ORM, else None;
    cheap for every other value (an attribute look-up and a dict look-up)."""
    cls = type(value)
    if hasattr(cls, "_sa_class_manager"):
        return SQLALCHEMY
    django_models = sys.modules.get("django.db.models")
    if django_models is not None and isinstance(value, django_models.Model):
        return DJANGO
    return None


def model_key(value: object, orm: str, path: str) -> ModelKey:
    """The `ModelKey` of a saved model instance; `JobEncodeError` naming `path` for one that
    has no primary key yet (never saved), since the worker could not find it."""
    cls = type(value)
    key = _sqlalchemy_key(value) if orm == SQLALCHEMY else _django_key(value)
    if key is None:
        raise JobEncodeError(
            f"{path} is a {cls.__module__}.{cls.__qualname__} that is not saved yet (it has "
            "no primary key): save it first (session.commit() or flush(); .save() in "
            "Django) so the worker can load it, or pass its id instead"
        )
    return ModelKey(f"{cls.__module__}:{cls.__qualname__}", key)


def _sqlalchemy_key(value: object) -> Any:
    from sqlalchemy import inspect

    state = inspect(value)
    identity = state.identity  # None while transient or pending (not flushed)
    if identity is None:
        return None
    return identity[0] if len(identity) == 1 else tuple(identity)


def _django_key(value: Any) -> Any:
    if value._state.adding or value.pk is None:  # never saved, even with a pk set by hand
        return None
    key = value.pk
    return tuple(key) if isinstance(key, (list, tuple)) else key
