"""Running `lq` commands in this process against a test's manager."""

from __future__ import annotations

from click.testing import CliRunner, Result

from laravel_queue import QueueManager
from laravel_queue.cli import Context, cli
from laravel_queue.cli import failed as _failed  # noqa: F401 - registers the commands


def run_lq(manager: QueueManager, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Context(manager=manager))
