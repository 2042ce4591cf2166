"""The `lq` command group and what every command gets: the manager, found from --app."""

from __future__ import annotations

import difflib
import importlib
import sys
from pathlib import Path

import click

from laravel_queue import manager as managers
from laravel_queue.exceptions import ConfigurationError
from laravel_queue.manager import QueueManager, current_manager

EXIT_USAGE = 2  # click's code for a usage error


class Context:
    """What every command gets: the manager, loaded on first use (or given, when the
    commands run inside another program: `cli.main(args, obj=Context(manager=...))`)."""

    def __init__(self, app_path: str | None = None, manager: QueueManager | None = None) -> None:
        self.app_path = app_path
        self._manager = manager

    @property
    def manager(self) -> QueueManager:
        if self._manager is None:
            self._manager = load_manager(self.app_path)
        return self._manager

    def exit_if_nothing_to_read(self) -> None:
        """A read command with no app named and no embedded database yet: say where it
        looked and stop, rather than create an empty database to read nothing from."""
        missing = self._missing_embedded_store()
        if missing is not None:
            click.echo(
                f"Nothing to read: no --app or LQ_APP names your app module, and there is no "
                f"embedded database at {missing}.",
                err=True,
            )
            raise SystemExit(0)

    def exit_if_nothing_to_change(self) -> None:
        """A command that changes state (pause, restart, retry, flush...) with no app named and
        no embedded database yet would act on a fresh store that no worker reads, and report
        success: refuse, and create nothing."""
        missing = self._missing_embedded_store()
        if missing is not None:
            click.echo(
                "Error: no app to act on: name the module that creates your QueueManager with "
                f"--app MODULE or LQ_APP=MODULE (there is no embedded database at {missing} "
                "either, so no worker could see this change).",
                err=True,
            )
            raise SystemExit(EXIT_USAGE)

    def _missing_embedded_store(self) -> Path | None:
        """The embedded database's path when nothing names an app and that file does not
        exist; None when there is something to act on."""
        if self._manager is not None or self.app_path or managers.has_current():
            return None
        default = managers.lq_home() / managers.SQLITE_FILE
        return None if default.exists() else default


def confirm(question: str, force: bool) -> None:
    """Ask before destroying something (as `celery purge` does), unless `--force`; with no
    terminal to ask on (cron, CI, a pipe), say that `--force` is what is needed."""
    if force:
        return
    if not sys.stdin.isatty():
        click.echo(
            f"Error: cannot ask '{question}': standard input is not a terminal. "
            "Add --force to go ahead without asking.",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)
    click.confirm(question, abort=True)


def load_manager(app_path: str | None) -> QueueManager:
    """The manager `--app`/`LQ_APP` names; with neither, the current one (see
    `current_manager`)."""
    if not app_path:
        return current_manager()
    try:
        return managers.load_manager(app_path)
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc


# Laravel's artisan names, so `lq queue:retry all` works as `php artisan queue:retry all` does.
ARTISAN_NAMES = {
    "queue:work": "work",
    "queue:failed": "failed",
    "queue:retry": "failed:retry",
    "queue:forget": "failed:forget",
    "queue:flush": "failed:flush",
    "queue:prune-failed": "failed:prune",
    "queue:batches": "batches",
    "queue:retry-batch": "batches:retry",
    "queue:prune-batches": "batches:prune",
    "queue:continue": "queue:resume",
}


# The module (in this package) that defines each command. A command's module is imported when
# the command is run, so `lq work` loads neither the tables (rich) nor the SQL stores that the
# listing commands need: a third of a second of start-up (click: "lazily loading subcommands").
COMMAND_MODULES = {
    "work": "work",
    "demo": "demo",
    **dict.fromkeys(["help", "list"], "app"),
    "migrate": "migrate",
    **dict.fromkeys(["batches", "batches:show", "batches:retry", "batches:prune"], "batches"),
    **dict.fromkeys(
        ["failed", "failed:show", "failed:retry", "failed:forget", "failed:flush", "failed:prune"],
        "failed",
    ),
    **dict.fromkeys(["queue:pause", "queue:resume", "queue:restart"], "operations"),
    **dict.fromkeys(["queue:size", "queue:monitor", "queue:jobs", "queue:clear"], "queue"),
    **dict.fromkeys(["workers", "workers:prune", "workers:scale"], "workers"),
    **dict.fromkeys(["spool", "spool:retry"], "spool"),
    **dict.fromkeys(["job:status", "job:cancel"], "jobs"),
    **dict.fromkeys(
        ["stats", "stats:watch", "tags:monitor", "tags:unmonitor", "tags:monitored"], "stats"
    ),
    "metrics:serve": "metrics",
    "dashboard": "dashboard",
    **dict.fromkeys(
        [
            "schedule:work",
            "schedule:run",
            "schedule:list",
            "schedule:test",
            "schedule:pause",
            "schedule:resume",
        ],
        "schedule",
    ),
}


class ArtisanGroup(click.Group):
    """Commands also answer to their artisan names (listed once in `lq --help`), and each is
    loaded from its module (`COMMAND_MODULES`) only when it is asked for."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = ARTISAN_NAMES.get(cmd_name, cmd_name)
        if name not in self.commands and name in COMMAND_MODULES:
            importlib.import_module(f"{__package__}.{COMMAND_MODULES[name]}")
        return super().get_command(ctx, name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """An unknown command name gets the closest names suggested (`lq faild`)."""
        name = args[0] if args else ""
        if self.get_command(ctx, name) is None and not name.startswith("-"):
            known = [*self.list_commands(ctx), *ARTISAN_NAMES]
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint} (`lq list` shows them all)")
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        for module in set(COMMAND_MODULES.values()):
            importlib.import_module(f"{__package__}.{module}")
        return super().list_commands(ctx)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Artisan names"):
            formatter.write_dl(sorted(ARTISAN_NAMES.items()))


@click.group(cls=ArtisanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="laravel_queue", prog_name="lq")
@click.option(
    "--app",
    "-A",
    "app_path",
    envvar="LQ_APP",
    metavar="MODULE[:ATTR]",
    help="Module that creates your QueueManager (env LQ_APP).",
)
@click.option(
    "--verbose", is_flag=True, help="Show the traceback of an error (anywhere; env LQ_VERBOSE=1)."
)
@click.pass_context
def cli(ctx: click.Context, app_path: str | None, verbose: bool) -> None:
    """laravel_queue: Laravel's queue commands for Celery."""
    if not isinstance(ctx.obj, Context):
        ctx.obj = Context(app_path)


@cli.command("list")
@click.pass_context
def list_commands(ctx: click.Context) -> None:
    """List the commands (artisan's `list`)."""
    group = ctx.find_root().command
    assert isinstance(group, click.Group)
    formatter = ctx.make_formatter()
    group.format_commands(ctx.find_root(), formatter)
    group.format_epilog(ctx.find_root(), formatter)
    click.echo(formatter.getvalue().rstrip())


@cli.command("help")
@click.argument("command", required=False)
@click.pass_context
def help_command(ctx: click.Context, command: str | None) -> None:
    """Show the help of lq, or of COMMAND (`lq help work`)."""
    root = ctx.find_root()
    group = root.command
    assert isinstance(group, click.Group)
    if command is None:
        click.echo(root.get_help())
        return
    found = group.get_command(root, command)
    if found is None:
        root.fail(f"No such command {command!r} (`lq list` shows them all)")
    with click.Context(found, info_name=command, parent=root) as sub:
        click.echo(found.get_help(sub))
