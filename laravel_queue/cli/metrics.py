"""`lq metrics:serve`: the Prometheus endpoint on its own port."""

from __future__ import annotations

import threading

import click
from prometheus_client import start_http_server

from laravel_queue.cli.app import Context, cli
from laravel_queue.prometheus import registry


@cli.command("metrics:serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=9808, show_default=True)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    help="Also report this queue (conn:queue); the ones workers consume are always reported.",
)
@click.pass_obj
def metrics_serve(ctx: Context, host: str, port: int, queues: tuple[str, ...]) -> None:
    """Serve the queue metrics for Prometheus at http://HOST:PORT/metrics until Ctrl-C."""
    try:
        server, _ = start_http_server(port, host, registry(ctx.manager, queues=queues))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    click.echo(f"Serving queue metrics at http://{host}:{server.server_port}/metrics")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
