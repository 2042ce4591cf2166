"""`python manage.py publish "Title"`: save a podcast and queue its publication once the
transaction commits."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from shop.jobs import PublishPodcast
from shop.models import Podcast


class Command(BaseCommand):
    help = "Save a podcast and queue its publication after the commit"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("title")

    def handle(self, *args: Any, **options: Any) -> None:
        import shop.queue  # noqa: F401 - the queue's manager

        with transaction.atomic():
            podcast = Podcast.objects.create(title=options["title"])
            job_id = PublishPodcast(podcast).after_commit().dispatch()
        self.stdout.write(f"podcast {podcast.pk} saved; job {job_id} queued")
