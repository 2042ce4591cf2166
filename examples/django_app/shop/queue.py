"""The shop's queue: `lq --app shop.queue work`, from this project's folder."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

from laravel_queue.contrib.django import manager_from_settings

manager = manager_from_settings()  # django.setup() first, once per process

from shop import jobs  # noqa: E402, F401 - registers the job classes
