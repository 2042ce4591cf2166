"""A small app to test with the testing kit (see examples/test_newsletter.py): signing up
sends a welcome mail and, after it, adds the address to the mailing list; a weekly issue goes
out as a batch, one job per subscriber."""

from __future__ import annotations

from pathlib import Path

from laravel_queue import Batch, Bus, Job, callback

SENT: list[str] = []  # what the "mail server" received, in this process


class SendWelcome(Job):
    queue = "mail"

    def __init__(self, email: str) -> None:
        self.email = email

    def handle(self) -> None:
        if self.email.endswith("@example.invalid"):
            self.fail(ValueError(f"{self.email} cannot receive mail"))
            return
        SENT.append(f"welcome {self.email}")


class AddToList(Job):
    def __init__(self, email: str, list_file: str) -> None:
        self.email = email
        self.list_file = list_file

    def handle(self) -> None:
        with Path(self.list_file).open("a") as out:
            out.write(self.email + "\n")


class SendIssue(Job):
    tries = 3

    def __init__(self, email: str, issue: int) -> None:
        self.email = email
        self.issue = issue

    def handle(self) -> None:
        if len(SENT) >= 1000:
            self.release(60)  # the mail server's hourly quota: try again in a minute
            return
        SENT.append(f"issue {self.issue} to {self.email}")


@callback
def issue_sent(batch: Batch) -> None:
    SENT.append(f"{batch.name}: done")


def sign_up(email: str, list_file: str) -> str | None:
    """Welcome first, then the list: a chain, so a failed welcome keeps the address off."""
    return Bus.chain([SendWelcome(email), AddToList(email, list_file)]).dispatch()


def send_issue(issue: int, subscribers: list[str]) -> Batch:
    jobs = [SendIssue(email, issue) for email in subscribers]
    return Bus.batch(jobs).name(f"issue {issue}").then(issue_sent).dispatch()
