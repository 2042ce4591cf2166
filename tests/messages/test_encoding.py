"""Job state as JSON: what round-trips, and the error naming what cannot."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from laravel_queue import Job
from laravel_queue.exceptions import JobDecodeError, JobEncodeError
from laravel_queue.messages.encoding import decode_value, encode_value


class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


class Level(enum.IntEnum):
    LOW = 1


@dataclass
class Point:
    x: int
    y: Decimal


class Carries(Job):
    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)

    def handle(self) -> None:
        raise AssertionError("not run in these tests")


VALUES = {
    "none": None,
    "text": "é",
    "number": 3,
    "real": 2.5,
    "flag": True,
    "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    "naive": datetime(2026, 1, 2, 3, 4, 5),
    "day": date(2026, 1, 2),
    "clock": time(1, 2, 3),
    "span": timedelta(seconds=90),
    "money": Decimal("10.05"),
    "id": uuid.uuid4(),
    "blob": b"\x00\xff",
    "pair": (1, "a"),
    "tags": {"x", "y"},
    "size": Size.LARGE,
    "level": Level.LOW,
    "point": Point(1, Decimal("2.5")),
    "nested": {"a": [Size.SMALL]},
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_each_supported_type_round_trips(name: str) -> None:
    value = VALUES[name]
    decoded = decode_value(encode_value(value, name))
    assert decoded == value
    assert type(decoded) is type(value)


def test_a_job_is_rebuilt_without_calling_init() -> None:
    job = Carries(**VALUES)
    rebuilt = Carries.from_state(job.encode_state())
    assert vars(rebuilt) == VALUES


def test_private_attributes_and_options_are_not_state() -> None:
    job = Carries(kept=1, _hidden=2, tries=5)
    assert job.encode_state() == {"kept": 1}


def test_an_unencodable_attribute_is_named_in_the_error() -> None:
    with (
        pytest.raises(JobEncodeError, match=r"Carries\.handle_to\['f'\] is a BufferedReader"),
        open(__file__, "rb") as handle,
    ):
        Carries(handle_to={"f": handle}).encode_state()


def test_an_enum_of_a_module_not_loaded_is_refused_not_imported() -> None:
    tagged = {"__lq__": ["enum", "os_unknown_module_xyz:Thing", "v"]}
    with pytest.raises(JobDecodeError, match="not loaded in this worker"):
        decode_value(tagged)


def test_a_tag_naming_a_non_enum_class_is_refused() -> None:
    with pytest.raises(JobDecodeError, match="does not name a usable class"):
        decode_value({"__lq__": ["enum", "builtins:dict", "v"]})


def test_a_job_is_tagged_by_the_model_like_objects_it_carries() -> None:
    from laravel_queue.jobs.queueable import model_tags

    from ..jobs import ChargesCustomer, Customer

    class Order:
        pk = 12

    job = ChargesCustomer(Customer(7, "Ada"))
    assert job.tags() == ["Customer:7"]
    job.orders = [Order(), Order()]  # type: ignore[attr-defined]
    job.ids = [1, 2, 3]  # type: ignore[attr-defined]
    assert model_tags(job) == ["Customer:7", "Order:12", "Order:12"]


def test_a_message_built_here_knows_its_header_as_parsing_it_back_would() -> None:
    from laravel_queue.jobs.serialization import build_message
    from laravel_queue.messages.payload import HEADER, LqHeader

    from ..jobs import ChargesCustomer, Customer

    message = build_message(ChargesCustomer(Customer(7, "Ada")), "default", "q", "id-1")
    assert message.lq == LqHeader.from_dict(message.headers[HEADER])
    assert message.lq is not None and message.lq.tags == ["Customer:7"]
    released = message.with_lq(message.lq.republished(attempts=2))
    assert released.lq == LqHeader.from_dict(released.headers[HEADER])
    assert released.lq is not None and released.lq.attempts == 2
