"""The shop's jobs against Django's test database and a real `lq work`:
`python manage.py test shop` (SQLite), or with `SHOP_DATABASE=postgresql`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("LQ_HOME", tempfile.mkdtemp(prefix="shop-queue-"))

from django.db import connection, transaction
from django.test import TransactionTestCase

from laravel_queue import Queue
from laravel_queue.exceptions import JobEncodeError
from shop.jobs import CountEpisodes, PublishIfStillThere, PublishPodcast
from shop.models import Podcast
from shop.queue import manager

PROJECT = Path(__file__).resolve().parent.parent


def wait_until(condition: Callable[[], Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(0.05)


def state(job_id: str | None) -> str | None:
    status = Queue.status(job_id or "")
    return status.state if status else None


@contextmanager
def worker() -> Iterator[Path]:
    """`lq work` on this test's database (Django's test database), counting each job's
    queries (`shop.counted_queue`); the path of its log."""
    env = {**os.environ, "SHOP_DB_NAME": str(connection.settings_dict["NAME"])}
    log = Path(tempfile.mkdtemp(prefix="shop-worker-")) / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "laravel_queue.cli", "--app", "shop.counted_queue", "work"],
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield log
        finally:
            process.terminate()
            process.wait(timeout=60)


class ModelsInJobs(TransactionTestCase):
    def test_the_worker_loads_the_row_as_it_is_when_the_job_runs(self) -> None:
        podcast = Podcast.objects.create(title="First draft")
        job_id = PublishPodcast(podcast).dispatch()
        Podcast.objects.filter(pk=podcast.pk).update(title="Final title")
        with worker():
            wait_until(lambda: state(job_id) == "succeeded")
        podcast.refresh_from_db()
        self.assertEqual(podcast.published_as, "Final title")

    def test_a_deleted_row_fails_the_job_or_ends_it_quietly(self) -> None:
        gone, quiet = Podcast.objects.create(title="gone"), Podcast.objects.create(title="quiet")
        failing = PublishPodcast(gone).dispatch()
        deleted = PublishIfStillThere(quiet).dispatch()
        Podcast.objects.filter(pk__in=[gone.pk, quiet.pk]).delete()
        with worker():
            wait_until(lambda: (state(failing), state(deleted)) == ("failed", "deleted"))
        [row] = [row for row in manager.failed.all() if row.uuid in (failing, deleted)]
        self.assertEqual(row.uuid, failing)
        self.assertIn(
            f"ModelNotFoundError: no shop.models.Podcast with the primary key {gone.pk}",
            row.exception,
        )

    def test_a_hundred_models_load_with_one_query(self) -> None:
        Podcast.objects.bulk_create(Podcast(title=f"episode {n}") for n in range(100))
        job_id = CountEpisodes(list(Podcast.objects.order_by("pk"))).dispatch()
        with worker() as log:
            wait_until(lambda: state(job_id) == "succeeded")
            wait_until(lambda: "shop.jobs.CountEpisodes ran" in log.read_text())
        text = log.read_text()
        self.assertIn("100 podcasts, the last 'episode 99'", text)
        self.assertIn("shop.jobs.CountEpisodes ran 1 queries", text)

    def test_an_unsaved_podcast_is_refused_at_dispatch(self) -> None:
        with self.assertRaisesRegex(JobEncodeError, "not saved yet"):
            PublishPodcast(Podcast(title="draft")).dispatch()

    def test_after_commit_queues_on_commit_and_nothing_on_rollback(self) -> None:
        before = Queue.size()
        try:
            with transaction.atomic():
                podcast = Podcast.objects.create(title="rolled back")
                PublishPodcast(podcast).after_commit().dispatch()
                self.assertEqual(Queue.size(), before)  # waiting for the commit
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        self.assertEqual(Queue.size(), before)
        with transaction.atomic():
            podcast = Podcast.objects.create(title="committed")
            job_id = PublishPodcast(podcast).after_commit().dispatch()
            self.assertEqual(Queue.size(), before)
        self.assertEqual(Queue.size(), before + 1)
        with worker():
            wait_until(lambda: state(job_id) == "succeeded")
        podcast.refresh_from_db()
        self.assertEqual(podcast.published_as, "committed")
