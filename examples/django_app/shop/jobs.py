"""The shop's jobs. A job holds the Podcast itself: the message carries only its class and
key, and the worker loads the row as it is when the job runs (Laravel's SerializesModels)."""

from __future__ import annotations

import logging

from laravel_queue import Job

from .models import Podcast

logger = logging.getLogger(__name__)


class PublishPodcast(Job):
    """Publish a podcast under the title it has when the job runs."""

    def __init__(self, podcast: Podcast) -> None:
        self.podcast = podcast

    def handle(self) -> None:
        self.podcast.published_as = self.podcast.title
        self.podcast.save(update_fields=["published_as"])
        logger.info("published %s as %r", self.podcast.pk, self.podcast.title)


class PublishIfStillThere(PublishPodcast):
    """The same, but a podcast deleted before the job runs ends it quietly."""

    delete_when_missing_models = True


class CountEpisodes(Job):
    """Holds many podcasts: the worker loads them with one query."""

    def __init__(self, podcasts: list[Podcast]) -> None:
        self.podcasts = podcasts

    def handle(self) -> None:
        logger.info("%d podcasts, the last %r", len(self.podcasts), self.podcasts[-1].title)
