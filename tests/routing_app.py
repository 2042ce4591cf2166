"""The app module of the routing process tests: the embedded SQLite default under LQ_HOME,
`tests.jobs.Routed` routed to the queue "billing", the queue "reports" forwarded to "audit"."""

from __future__ import annotations

from laravel_queue import QueueManager

from . import jobs

manager = QueueManager()
manager.route(jobs.Routed, queue="billing")
manager.forward("reports", to="audit")
