"""The `lq` command (Laravel: artisan queue:*), with colon names like artisan."""

from __future__ import annotations

import sys

from . import demo, failed, migrate, queue, work  # noqa: F401 - each registers its commands
from .app import ARTISAN_NAMES, Context, cli, load_manager

__all__ = ["ARTISAN_NAMES", "Context", "app_option_first", "cli", "load_manager", "main"]


def main() -> None:
    cli(args=app_option_first(sys.argv[1:]), prog_name="lq")


def app_option_first(args: list[str]) -> list[str]:
    """`lq work --app shop` as `lq --app shop work`: `--app` belongs to `lq`, but Celery's
    habit puts it anywhere."""
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg.startswith("--app="):
            return [arg, *args[:index], *args[index + 1 :]]
        if arg == "--app" and index + 1 < len(args):
            return [arg, args[index + 1], *args[:index], *args[index + 2 :]]
    return args
