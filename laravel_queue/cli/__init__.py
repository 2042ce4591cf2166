"""The `lq` command (Laravel: artisan queue:*), with colon names like artisan."""

from __future__ import annotations

import os
import sys

import click
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from laravel_queue.cli.app import ARTISAN_NAMES, Context, cli, load_manager
from laravel_queue.exceptions import LaravelQueueError, QueueConnectionError

__all__ = ["ARTISAN_NAMES", "Context", "app_option_first", "cli", "load_manager", "main"]


# Errors a user causes (a bad URL, an unknown connection, a server that is down) end the
# command with one line; `lq --verbose` (or LQ_VERBOSE=1) shows the traceback as well.
EXIT_ERROR = 1
EXIT_UNREACHABLE = 3
UNREACHABLE = (QueueConnectionError, KombuOperationalError, RedisError, OSError)


def main() -> None:
    args = app_option_first(sys.argv[1:])
    verbose = "--verbose" in args or os.environ.get("LQ_VERBOSE") == "1"
    try:
        cli.main(args=[arg for arg in args if arg != "--verbose"], prog_name="lq")
    except Exception as exc:
        unreachable = isinstance(exc, UNREACHABLE) or _is_database_error(exc)
        if verbose or not (unreachable or isinstance(exc, LaravelQueueError)):
            raise
        code = EXIT_UNREACHABLE if unreachable else EXIT_ERROR
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        click.echo(f"Error: {reason} ({type(exc).__name__})", err=True)
        raise SystemExit(code) from None


def _is_database_error(exc: BaseException) -> bool:
    """A SQLAlchemy error: its module is loaded by whatever raised one, and a command that
    never touched a database should not load SQLAlchemy to ask."""
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.SQLAlchemyError)


def app_option_first(args: list[str]) -> list[str]:
    """`lq work --app shop` (or `-A shop`) as `lq --app shop work`: `--app` belongs to `lq`,
    but Celery's habit puts it anywhere."""
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg.startswith("--app=") or (arg.startswith("-A") and len(arg) > 2):
            return [arg, *args[:index], *args[index + 1 :]]
        if arg in ("--app", "-A") and index + 1 < len(args):
            return [arg, args[index + 1], *args[:index], *args[index + 2 :]]
    return args
