"""The `lq` group loads each command's module only when that command is asked for."""

from __future__ import annotations

import subprocess
import sys

from laravel_queue.cli.app import COMMAND_MODULES, cli


def test_every_command_is_listed_with_the_module_that_defines_it() -> None:
    names = cli.list_commands(None)  # type: ignore[arg-type]
    assert sorted(names) == sorted(COMMAND_MODULES)
    for name in names:
        command = cli.commands[name]
        assert command.callback is not None
        assert command.callback.__module__ == f"laravel_queue.cli.{COMMAND_MODULES[name]}"


def test_lq_work_on_redis_loads_neither_sqlalchemy_nor_rich() -> None:
    code = (
        "import sys; from celery import Celery; from laravel_queue import QueueManager; "
        "from laravel_queue.cli.app import cli; "
        "QueueManager(Celery('t', broker='redis://127.0.0.1:6379/5'), cache_url='memory://'); "
        "cli.get_command(None, 'work'); "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'rich') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
