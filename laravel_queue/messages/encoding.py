"""JSON encoding of job state: the values a job's public attributes may hold.

JSON-native values pass through unchanged, so a stock Celery worker and Flower show the
state as it is. Other supported types become a one-key tagged object, `{"__lq__": [tag, ...]}`:
datetime, date, time, timedelta, Decimal, UUID, bytes, tuple, set, Enum and dataclasses; a
SQLAlchemy or Django model becomes its class and primary key (`model_keys`), decoded as a
`ModelKey` that the worker loads (`jobs.models`).

Enums and dataclasses are rebuilt only from classes already imported in the worker
(`sys.modules`), never by importing a module a message names: a message must not be able to
make a worker import code (DESIGN §2.7).
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import sys
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from laravel_queue.exceptions import JobDecodeError, JobEncodeError
from laravel_queue.messages.model_keys import ModelKey, model_key, orm_of

TAG = "__lq__"


def encode_value(value: Any, path: str) -> Any:
    """Encode one value; `path` names it in the error ("ProcessPodcast.owner.created")."""
    if isinstance(value, enum.Enum):  # first: a str or int Enum is a str or int too
        return {TAG: ["enum", _type_path(type(value)), encode_value(value.value, path)]}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):
        return [encode_value(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        return _encode_dict(value, path)
    if isinstance(value, ModelKey):  # a model not loaded, going on (a chain's next job)
        return _encode_model_key(value, path)
    orm = orm_of(value)  # before dataclasses: a mapped class may be one
    if orm is not None:
        return _encode_model_key(model_key(value, orm, path), path)
    for kind, (check, encode, _) in _CODECS.items():
        if check(value):
            return {TAG: [kind, encode(value)]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {TAG: ["dataclass", _type_path(type(value)), _encode_dict(fields, path)]}
    raise JobEncodeError(
        f"{path} is a {type(value).__name__}, which cannot be sent to a worker as JSON; "
        "store something JSON can carry (an id, a str, a dataclass of plain values) instead, "
        "or define __getstate__/__setstate__ on the job"
    )


def decode_value(value: Any) -> Any:
    """Inverse of `encode_value`."""
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if not isinstance(value, dict):
        return value
    if TAG not in value:
        return {key: decode_value(item) for key, item in value.items()}
    tagged = value[TAG]
    try:
        kind = tagged[0]
        if kind == "enum":
            return loaded_class(tagged[1], enum.Enum)(decode_value(tagged[2]))
        if kind == "model":
            key = tagged[2]
            return ModelKey(
                tagged[1],
                tuple(map(decode_value, key)) if isinstance(key, list) else decode_value(key),
            )
        if kind == "dataclass":
            cls: Callable[..., Any] = loaded_class(tagged[1], None)
            if not dataclasses.is_dataclass(cls):
                raise JobDecodeError(f"{tagged[1]} is not a dataclass")
            return cls(**decode_value(tagged[2]))
        return _CODECS[kind][2](tagged[1])
    except JobDecodeError:
        raise
    except Exception as exc:
        raise JobDecodeError(f"cannot decode tagged value {value!r}: {exc}") from exc


def _encode_dict(value: dict[Any, Any], path: str) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise JobEncodeError(f"{path} has the key {key!r}; JSON objects only take str keys")
        encoded[key] = encode_value(item, f"{path}[{key!r}]")
    return encoded


def _encode_model_key(value: ModelKey, path: str) -> dict[str, Any]:
    key = value.key
    if isinstance(key, tuple):  # a composite key: a list, which a single key never is
        return {TAG: ["model", value.model, [encode_value(part, path) for part in key]]}
    return {TAG: ["model", value.model, encode_value(key, path)]}


def _type_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def loaded_class(path: str, base: type | None = None) -> Any:
    """The class `module:QualName` names, among the modules already imported (never by
    importing one: a message must not make a worker import code)."""
    module_name, _, qualname = path.partition(":")
    module = sys.modules.get(module_name)
    if module is None:
        raise JobDecodeError(
            f"{path} is not loaded in this worker; import it from the job's module"
        )
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not isinstance(obj, type) or (base is not None and not issubclass(obj, base)):
        raise JobDecodeError(f"{path} does not name a usable class")
    return obj


def _seconds(value: timedelta) -> float:
    return value.total_seconds()


# tag -> (is this type?, encode, decode). Order matters: datetime is a date.
_CODECS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any], Callable[[Any], Any]]] = {
    "datetime": (lambda v: isinstance(v, datetime), datetime.isoformat, datetime.fromisoformat),
    "date": (lambda v: isinstance(v, date), date.isoformat, date.fromisoformat),
    "time": (lambda v: isinstance(v, time), time.isoformat, time.fromisoformat),
    "timedelta": (lambda v: isinstance(v, timedelta), _seconds, lambda s: timedelta(seconds=s)),
    "decimal": (lambda v: isinstance(v, Decimal), str, Decimal),
    "uuid": (lambda v: isinstance(v, uuid.UUID), str, uuid.UUID),
    "bytes": (
        lambda v: isinstance(v, bytes),
        lambda v: base64.b64encode(v).decode("ascii"),
        base64.b64decode,
    ),
    "tuple": (
        lambda v: isinstance(v, tuple),
        lambda v: [encode_value(i, "tuple item") for i in v],
        lambda v: tuple(decode_value(v)),
    ),
    "set": (
        lambda v: isinstance(v, (set, frozenset)),
        lambda v: [encode_value(i, "set item") for i in sorted(v, key=repr)],
        lambda v: set(decode_value(v)),
    ),
}
