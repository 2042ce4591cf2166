"""laravel_queue in a Django project: the manager from Django's settings, Django set up once
per process (Celery: `app.config_from_object('django.conf:settings', namespace='CELERY')`
and its Django fix-up).

In the project's queue module (the one `lq --app` names)::

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    manager = manager_from_settings()   # django.setup() first, once
    from shop import jobs  # noqa: F401 - registers the job classes

Django models in a job's state travel as their class and key and load through their
default manager when the job runs; `job.after_commit()` waits for `transaction.atomic()`.
Celery's own Django fix-up, active whenever `DJANGO_SETTINGS_MODULE` is set, closes the
database connections a forked pool process inherited and the stale ones around each job.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.utils.imports import symbol_by_name

from laravel_queue.exceptions import ConfigurationError
from laravel_queue.manager import QueueManager

SETTING = "LARAVEL_QUEUE"
PREFIX = "LQ_"
# Not QueueManager arguments: the broker of the Celery app made here, or that app itself.
BROKER_URL = "broker_url"
CELERY_APP = "celery_app"


def manager_from_settings(celery_app: Celery | str | None = None, **overrides: Any) -> QueueManager:
    """The app's `QueueManager`, configured from Django's settings, after `django.setup()`.

    Settings: a `LARAVEL_QUEUE` dict whose keys are `QueueManager`'s arguments plus
    `broker_url` and `celery_app` (an app or `"module:attribute"`), or the same names as
    upper-case `LQ_` settings (`LQ_BROKER_URL`, `LQ_DATABASE_URL`, `LQ_CONNECTIONS`, ...) when
    there is no dict. `celery_app` and `overrides` win over both. Nothing set: the embedded
    SQLite default, as for any app.
    """
    import django
    from django.apps import apps
    from django.conf import settings

    if not apps.ready:
        django.setup()
    options = dict(_read(settings))
    options.update(overrides)
    app = celery_app if celery_app is not None else options.pop(CELERY_APP, None)
    broker = options.pop(BROKER_URL, None)
    if isinstance(app, str):
        app = symbol_by_name(app)
    if app is None and broker:
        app = Celery("laravel_queue", broker=broker, set_as_current=False)
    if app is not None and not isinstance(app, Celery):
        raise ConfigurationError(f"{SETTING}['celery_app'] is not a Celery app: {app!r:.80}")
    try:
        return QueueManager(app, **options)
    except TypeError as exc:  # an unknown key: say where it came from
        raise ConfigurationError(f"{SETTING} / {PREFIX}* settings: {exc}") from exc


def _read(settings: Any) -> dict[str, Any]:
    block = getattr(settings, SETTING, None)
    if block is not None:
        if not isinstance(block, dict):
            raise ConfigurationError(f"settings.{SETTING} must be a dict, got {block!r:.80}")
        return block
    return {
        name[len(PREFIX) :].lower(): getattr(settings, name)
        for name in dir(settings)
        if name.startswith(PREFIX) and name.isupper()
    }
