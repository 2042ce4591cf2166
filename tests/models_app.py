"""The app module of the models-in-jobs worker processes: `lq --app tests.models_app work`.

The embedded default (the test's `LQ_HOME`) is broker and store; the models live in the
database `LQ_TEST_MODELS_DB` names, loaded in sessions of `sessionmaker(engine)`.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

from laravel_queue import Queue, QueueManager, events

from .model_jobs import QUERIES

engine = create_engine(os.environ["LQ_TEST_MODELS_DB"])


@event.listens_for(engine, "before_cursor_execute")
def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    QUERIES.append(statement)


manager = QueueManager(models=sessionmaker(engine))
# Each job counts the statements from its own start: JobProcessing fires before its models load.
Queue.listen(events.JobProcessing, lambda event: QUERIES.clear())
