"""Dispatching after the database transaction commits (Laravel: `afterCommit()`).

`job.after_commit(session)` waits for a SQLAlchemy session's commit; `job.after_commit()`
with no session waits for Django's transaction (`transaction.on_commit`) on the `using`
database. Outside a transaction the job is pushed at once, as in Laravel; a rollback drops
it. Django gives no word of a rollback, so a unique job waiting on Django takes its lock at
the commit rather than at the dispatch: a lock taken earlier would outlive a rollback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from laravel_queue.exceptions import ConfigurationError
from laravel_queue.jobs.options import AfterCommit


def waits_for_django(wait: AfterCommit | None, push: Callable[[], object]) -> bool:
    """Whether `push` was left to Django's commit: `wait` names no SQLAlchemy session and a
    Django `atomic()` block is open on its database (else the caller pushes now)."""
    if wait is None or wait.session is not None:
        return False
    try:
        from django.db import transaction
    except ImportError as exc:
        raise ConfigurationError(
            "after_commit() without a session waits for Django's transaction, and Django is "
            "not installed; pass the SQLAlchemy session: job.after_commit(session)"
        ) from exc
    if not transaction.get_connection(wait.using).in_atomic_block:
        return False
    transaction.on_commit(push, using=wait.using)
    return True


def waits_for_sqlalchemy(
    wait: AfterCommit | None,
    push: Callable[[], object],
    on_discard: Callable[[], object] | None,
) -> bool:
    """Whether `push` was left to the commit of the SQLAlchemy session `wait` names (a
    transaction is open on it); a rollback calls `on_discard` (a unique job's lock goes)."""
    session = wait.session if wait is not None else None
    if session is None or not session.in_transaction():
        return False
    # Imported here: only a caller holding a SQLAlchemy session gets here, and a worker or
    # publisher that never passes one should not load SQLAlchemy's ORM events.
    from sqlalchemy import event

    def on_commit(_session: Any) -> None:
        event.remove(session, "after_soft_rollback", on_rollback)
        try:
            push()
        except BaseException:
            if on_discard is not None:
                on_discard()
            raise

    def on_rollback(_session: Any, _previous: Any) -> None:
        event.remove(session, "after_commit", on_commit)
        if on_discard is not None:
            on_discard()

    event.listen(session, "after_commit", on_commit, once=True)
    event.listen(session, "after_soft_rollback", on_rollback, once=True)
    return True
