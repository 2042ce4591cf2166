"""`lq stats`, `lq stats:watch` and the monitored tags (Horizon's metrics and monitoring
screens, in the terminal)."""

from __future__ import annotations

import json
import time

import click
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from laravel_queue.cli.app import Context, cli
from laravel_queue.durations import parse_duration, readable
from laravel_queue.metrics.report import Figures, MetricsReport, build_report

SPARK = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 12  # characters: the whole window, squeezed (five minutes each for an hour)


def sparkline(values: tuple[int, ...], width: int = SPARK_WIDTH) -> str:
    """`values` in `width` characters at most, each the sum of its share of them, scaled to
    the largest (a blank row of the lowest bar when nothing ran)."""
    if not values:
        return ""
    per = -(-len(values) // width)  # ceiling: every value lands in one character
    sums = [sum(values[i : i + per]) for i in range(0, len(values), per)]
    top = max(sums)
    if not top:
        return SPARK[0] * len(sums)
    return "".join(SPARK[min(len(SPARK) - 1, s * len(SPARK) // (top + 1))] for s in sums)


def _seconds(value: float | None) -> str:
    return "-" if value is None else readable(value)


def _table(title: str, rows: tuple[Figures, ...], minutes: int) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column(title.split()[0].rstrip("s").capitalize(), overflow="fold", ratio=1)
    for name in ("/min", "Fail", "p50", "p95", "p99", "Wait95"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column(f"Runs/{minutes}m" if minutes < 120 else "Runs", no_wrap=True)
    names = _short_names([f.name for f in rows])
    for f in rows:
        table.add_row(
            names[f.name],
            f"{f.throughput:.1f}",
            f"{f.failure_rate:.0%}" if f.failed else "0",
            _seconds(f.runtime.p50),
            _seconds(f.runtime.p95),
            _seconds(f.runtime.p99),
            _seconds(f.wait.p95),
            sparkline(f.per_minute),
        )
    return table


def _short_names(names: list[str]) -> dict[str, str]:
    """Each dotted class name as its last part where no other row shares it: an 80-column
    terminal then fits the row on one line (`--json` and `--class` keep the whole name)."""
    last = [name.rpartition(".")[2] for name in names]
    return {
        name: short if last.count(short) == 1 else name
        for name, short in zip(names, last, strict=True)
    }


def render(report: MetricsReport) -> Group:
    minutes = len(report.total.per_minute)
    t = report.total
    summary = (
        f"{t.runs} runs in the last {minutes} min: {t.processed} processed, {t.failed} failed, "
        f"{t.released} released"
    )
    if not t.runs:
        return Group(summary)
    return Group(
        summary,
        _table("Jobs by class", report.jobs, minutes),
        _table("Queues", report.queues, minutes),
    )


def _report(
    ctx: Context, since: str, queue: str | None, job: str | None, tag: str | None
) -> MetricsReport:
    try:
        seconds = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    return build_report(ctx.manager.metrics_store, seconds, queue=queue, job=job, tag=tag)


_filters = [
    click.option("--since", default="1h", show_default=True, help="The window: 15m, 1h, 2d."),
    click.option("--queue", help="Only this queue."),
    click.option("--class", "job", help="Only this job class (its dotted name)."),
    click.option("--tag", help="Only the jobs with this monitored tag (lq tags:monitor)."),
]


def _with_filters(command: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(_filters):
        command = option(command)
    return command


@cli.command("stats")
@_with_filters
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def stats(
    ctx: Context, since: str, queue: str | None, job: str | None, tag: str | None, as_json: bool
) -> None:
    """Throughput, failures, run-time and wait percentiles per job class and per queue, with
    runs per minute over the window (Horizon's metrics)."""
    ctx.exit_if_nothing_to_read()
    report = _report(ctx, since, queue, job, tag)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
        return
    Console().print(render(report))


@cli.command("stats:watch")
@_with_filters
@click.option("--interval", type=click.FloatRange(min=0.5), default=2.0, show_default=True)
@click.pass_obj
def stats_watch(
    ctx: Context, since: str, queue: str | None, job: str | None, tag: str | None, interval: float
) -> None:
    """`lq stats`, refreshed in place every --interval seconds until Ctrl-C."""
    ctx.exit_if_nothing_to_read()
    with Live(render(_report(ctx, since, queue, job, tag)), auto_refresh=False) as live:
        try:
            while True:
                time.sleep(interval)
                live.update(render(_report(ctx, since, queue, job, tag)), refresh=True)
        except KeyboardInterrupt:
            pass


@cli.command("tags:monitor")
@click.argument("tags", nargs=-1, required=True)
@click.pass_obj
def tags_monitor(ctx: Context, tags: tuple[str, ...]) -> None:
    """Keep metrics of the jobs with these tags apart (`lq stats --tag T`); the workers
    start within five seconds (Horizon: monitoring a tag)."""
    ctx.exit_if_nothing_to_change()
    for tag in tags:
        ctx.manager.metrics_store.monitor(tag)
    click.echo(f"Monitoring {', '.join(tags)}.")


@cli.command("tags:unmonitor")
@click.argument("tags", nargs=-1, required=True)
@click.pass_obj
def tags_unmonitor(ctx: Context, tags: tuple[str, ...]) -> None:
    """Stop keeping metrics of these tags apart (those already kept expire with their
    minutes)."""
    ctx.exit_if_nothing_to_change()
    for tag in tags:
        ctx.manager.metrics_store.stop_monitoring(tag)
    click.echo(f"No longer monitoring {', '.join(tags)}.")


@cli.command("tags:monitored")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def tags_monitored(ctx: Context, as_json: bool) -> None:
    """The monitored tags."""
    ctx.exit_if_nothing_to_read()
    tags = sorted(ctx.manager.metrics_store.monitored())
    click.echo(json.dumps(tags) if as_json else "\n".join(tags) or "No tag is monitored.")
