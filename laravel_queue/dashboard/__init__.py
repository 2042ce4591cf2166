"""The dashboard: Horizon's pages for laravel_queue, as an ASGI app (`pip install
laravel_queue[dashboard]`).

`lq dashboard` serves it; `laravel_queue.dashboard.app(manager, authorize=...)` mounts it in
your own Starlette, FastAPI or Django ASGI project. `pages` is what each page shows (also its
JSON), `security` the gate, CSRF token and headers, `formatting` how numbers read.
"""

from laravel_queue.dashboard.app import app

__all__ = ["app"]
