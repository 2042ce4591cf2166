"""Chains (Laravel's Bus::chain), on every broker: order, what advances a chain and what does
not, catch callbacks, defaults, editing a running chain, and a retried link."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from laravel_queue import Bus, Queue, QueueManager
from laravel_queue.messages.encryption import ENCRYPTED_KWARG
from laravel_queue.messages.payload import HEADER

from .. import jobs
from ..support import lines, wait_until, worker


def names(trace: Path) -> list[str]:
    return [line.split()[0] for line in lines(trace)]


def test_a_chain_runs_its_jobs_in_order_each_after_the_one_before(
    manager: QueueManager, trace: Path
) -> None:
    first = Bus.chain([jobs.Traced(str(trace), n) for n in ("a", "b", "c")]).dispatch()
    assert Queue.size() == 1  # only the first is queued; it carries the rest
    with worker(manager):
        wait_until(lambda: len(lines(trace)) == 3)
    assert names(trace) == ["a", "b", "c"]
    assert lines(trace)[0] == f"a attempt=1 id={first}"
    assert len({line.split("id=")[1] for line in lines(trace)}) == 3  # a new uuid per job


def test_job_chain_is_bus_chain(manager: QueueManager, trace: Path) -> None:
    jobs.Traced(str(trace), "a").chain([jobs.Traced(str(trace), "b")]).dispatch()
    with worker(manager):
        wait_until(lambda: len(lines(trace)) == 2)
    assert names(trace) == ["a", "b"]


def test_a_retried_exception_does_not_stop_the_chain_or_call_catch(
    manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    flaky = jobs.FailsUntil(str(trace), 2)
    flaky.backoff = 0  # type: ignore[misc]
    Bus.chain([flaky, jobs.Traced(str(trace), "next")]).catch(jobs.note_chain_failure).dispatch()
    with worker(manager):
        wait_until(lambda: "next" in names(trace), timeout=30)
    assert names(trace) == ["flaky", "flaky", "next"]
    assert lines(callback_trace) == []


def test_a_final_failure_stops_the_chain_and_runs_each_catch_once(
    manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    Bus.chain([jobs.AlwaysFails(str(trace), "fails"), jobs.Traced(str(trace), "never")]).catch(
        jobs.note_chain_failure
    ).catch(jobs.Traced(str(trace), "caught-by-a-job")).dispatch()
    with worker(manager):
        wait_until(lambda: "caught-by-a-job" in names(trace), timeout=30)
        wait_until(lambda: manager.failed.count() == 1)
    assert names(trace) == [
        "fails",
        "fails",
        "fails",
        "caught-by-a-job",
    ]  # 2 tries, failed()
    assert lines(callback_trace) == ["catch ValueError: always fails"]


def test_a_released_job_does_not_advance_the_chain_until_it_succeeds(
    manager: QueueManager, trace: Path
) -> None:
    Bus.chain([jobs.ReleasesOnce(str(trace), "released"), jobs.Traced(str(trace), "b")]).dispatch()
    with worker(manager):
        wait_until(lambda: "b" in names(trace), timeout=30)
    assert names(trace) == ["released", "released", "b"]  # b only after the second run


def test_a_job_ended_by_middleware_or_deleted_counts_as_success(
    manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "skip"
    flag.touch()
    Bus.chain(
        [
            jobs.Skippable(str(trace), str(flag)),  # Skip.when(flag): never reaches handle()
            jobs.DeletesItself(str(trace), "deletes"),
            jobs.Traced(str(trace), "last"),
        ]
    ).dispatch()
    with worker(manager):
        wait_until(lambda: "last" in names(trace), timeout=30)
    assert names(trace) == ["deletes", "last"]
    assert manager.failed.count() == 0


def test_handle_can_prepend_and_append_to_its_chain(manager: QueueManager, trace: Path) -> None:
    extends = jobs.ExtendsItsChain(str(trace), "extends")
    Bus.chain([extends, jobs.Traced(str(trace), "b")]).dispatch()
    with worker(manager):
        wait_until(lambda: len(lines(trace)) == 4)
    assert names(trace) == ["extends", "prepended", "b", "appended"]


def test_the_chain_s_queue_is_a_default_and_a_job_s_own_queue_wins(
    manager: QueueManager, trace: Path
) -> None:
    own = jobs.Traced(str(trace), "own").on_queue("elsewhere")
    Bus.chain([jobs.Traced(str(trace), "a"), jobs.Traced(str(trace), "b"), own]).on_queue(
        "chained"
    ).dispatch()
    assert Queue.size("chained") == 1 and Queue.size() == 0
    with worker(manager, queues=("chained",)):
        wait_until(lambda: Queue.size("elsewhere") == 1, timeout=30)
    assert names(trace) == ["a", "b"]
    Queue.clear("elsewhere")


def test_a_chain_s_delay_holds_back_only_its_first_job(manager: QueueManager) -> None:
    Bus.chain([jobs.NoSettings("unused"), jobs.NoSettings("unused")]).delay(60).dispatch()
    assert Queue.delayed_size() == 1 and Queue.pending_size() == 0
    Queue.clear()


def test_an_encrypted_job_stays_encrypted_while_it_waits_in_the_chain(
    redis_manager: QueueManager, trace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LQ_ENCRYPTION_KEY", Fernet.generate_key().decode())
    Bus.chain(
        [jobs.Traced(str(trace), "a"), jobs.ChargesCard(str(trace), "card", "4242424242424242")]
    ).dispatch()
    raw = redis_manager.app.connection_for_read().default_channel.client.lindex("default", 0)
    assert b"4242424242424242" not in raw
    link = json.loads(raw)["headers"][HEADER]["chain"][0]
    assert list(link["state"]) == [ENCRYPTED_KWARG]  # a token, not the state
    with worker(redis_manager):
        wait_until(lambda: len(lines(trace)) == 2)
    assert lines(trace)[1].endswith("card=4242424242424242")


@pytest.mark.parametrize(
    ("catch", "says"),
    [
        (lambda exc: None, "a lambda cannot be sent"),
        (jobs.not_a_callback, "is not decorated with @callback"),
        (jobs.Traced, "takes a Job instance or a function"),
    ],
)
def test_a_callback_that_cannot_travel_is_refused_when_the_chain_is_built(
    sqlite_manager: QueueManager, catch: object, says: str
) -> None:
    with pytest.raises(TypeError, match=says):
        Bus.chain([jobs.NoSettings("x")]).catch(catch)


def test_a_closure_is_refused_saying_why(sqlite_manager: QueueManager) -> None:
    def notify(exc: BaseException) -> None:
        pass

    with pytest.raises(TypeError, match="defined inside a function"):
        Bus.chain([jobs.NoSettings("x")]).catch(notify)


def test_a_class_in_a_chain_is_refused_naming_the_fix(sqlite_manager: QueueManager) -> None:
    with pytest.raises(TypeError, match=r"a chain takes a job instance, got the class Traced"):
        Bus.chain([jobs.Traced])  # type: ignore[list-item]


def test_a_failed_link_retried_from_failed_jobs_carries_the_chain_on(
    redis_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "bug"
    flag.touch()
    Bus.chain(
        [jobs.FailsWhileFlagged(str(trace), str(flag)), jobs.Traced(str(trace), "after")]
    ).dispatch()
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1, timeout=30)
        flag.unlink()  # the fix is deployed
        assert redis_manager.failed.retry().retried == 1
        wait_until(lambda: "after" in names(trace), timeout=30)
    # run and failed(), then the retry's run and its "succeeded" line, then the chain goes on
    assert names(trace) == ["flagged"] * 4 + ["after"]
