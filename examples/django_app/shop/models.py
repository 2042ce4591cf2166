"""The shop's models: podcasts, published by a queued job."""

from django.db import models


class Podcast(models.Model):
    title = models.CharField(max_length=200)
    published_as = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return self.title
