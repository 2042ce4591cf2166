"""`lq dashboard`: the dashboard on its own port (uvicorn)."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from laravel_queue.cli.app import Context, cli

EXTRA_MISSING = "the dashboard needs its extra: pip install 'laravel_queue[dashboard]'"


@cli.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8008, show_default=True)
@click.option(
    "--authorize",
    "authorize_path",
    metavar="MODULE:FUNCTION",
    help="A callable given each request that returns whether it may see the dashboard.",
)
@click.option("--read-only", is_flag=True, help="Hide every button; refuse every action.")
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Let anyone who reaches the port in (only behind your own authentication).",
)
@click.pass_obj
def dashboard(
    ctx: Context,
    host: str,
    port: int,
    authorize_path: str | None,
    read_only: bool,
    insecure_no_auth: bool,
) -> None:
    """Serve the dashboard at http://HOST:PORT/ until Ctrl-C (Laravel: Horizon)."""
    try:
        import uvicorn

        from laravel_queue.dashboard import app
        from laravel_queue.dashboard.security import is_loopback
    except ImportError as exc:
        raise click.ClickException(f"{EXTRA_MISSING} ({exc})") from None
    if not (is_loopback(host) or authorize_path or insecure_no_auth):
        raise click.ClickException(
            f"--host {host} lets other machines reach the dashboard: pass --authorize "
            "MODULE:FUNCTION (a callable deciding who may see it) or --insecure-no-auth"
        )
    authorize = _callable(authorize_path) if authorize_path else None
    served = app(
        ctx.manager, authorize=authorize, read_only=read_only, insecure_no_auth=insecure_no_auth
    )
    uvicorn.run(served, host=host, port=port, log_level="info", access_log=False)


def _callable(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    if not attribute:
        raise click.ClickException(f"--authorize {path}: name a function, MODULE:FUNCTION")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise click.ClickException(f"--authorize {path}: {exc}") from None
    if not callable(target):
        raise click.ClickException(f"--authorize {path} is not callable")
    return target
