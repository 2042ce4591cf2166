"""Settings of the example shop: one app, its database from the environment.

`SHOP_DATABASE=postgresql` uses PostgreSQL on 127.0.0.1 (the database `SHOP_DB_NAME`),
anything else a SQLite file beside this project (or `SHOP_DB_NAME`).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "example-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"  # Django sets the process time zone to it: the worker log shows it too
INSTALLED_APPS = ["shop"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if os.environ.get("SHOP_DATABASE") == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("SHOP_DB_NAME", "shop"),
            "USER": os.environ.get("SHOP_DB_USER", "postgres"),
            "HOST": os.environ.get("SHOP_DB_HOST", "127.0.0.1"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SHOP_DB_NAME", str(BASE_DIR / "shop.sqlite3")),
            # A file, not memory: the test database is shared with the worker process.
            "TEST": {
                "NAME": os.environ.get("SHOP_TEST_DB_NAME", str(BASE_DIR / "test-shop.sqlite3"))
            },
        }
    }

# laravel_queue, read by manager_from_settings() in shop/queue.py. Empty: the embedded
# SQLite default (broker and store in $LQ_HOME/laravel_queue.sqlite). For Redis:
#   LARAVEL_QUEUE = {"broker_url": "redis://localhost:6379/0",
#                    "database_url": "postgresql+psycopg://localhost/shop"}
LARAVEL_QUEUE: dict[str, object] = {}
