"""FastAPI: queue a job from an `async def` endpoint without blocking the event loop.

    pip install fastapi uvicorn
    python examples/fastapi_app.py            # serves http://127.0.0.1:8000
    curl -X POST 'http://127.0.0.1:8000/signups?email=ada@example.com'
    lq --app examples.fastapi_app work        # from the project's folder: runs the jobs

`await SendWelcome.dispatch_async(email)` pushes on a dispatch thread while the loop serves
other requests; a plain `dispatch()` here would hold every request for a broker round trip.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from laravel_queue import Job, Queue, QueueManager

manager = QueueManager()  # the embedded SQLite default; give it Redis in production
logger = logging.getLogger(__name__)


class SendWelcome(Job):
    """The welcome mail of a new signup."""

    tries = 3
    backoff = [10, 60]

    def __init__(self, email: str) -> None:
        self.email = email

    def handle(self) -> None:
        logger.info("welcome mail sent to %s", self.email)


app = FastAPI()


@app.post("/signups")
async def sign_up(email: str) -> dict[str, str | None]:
    job_id = await SendWelcome.dispatch_async(email)
    return {"email": email, "job": job_id}


@app.get("/jobs/{job_id}")
def job_status(job_id: str) -> dict[str, str | None]:  # a plain def: FastAPI runs it on a thread
    status = Queue.status(job_id)
    return {"job": job_id, "state": status.state if status else None}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
