"""What a search of the failed jobs asks for (the dashboard's `/failed?q=...`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from laravel_queue.messages.records import FailedJob


@dataclass(frozen=True)
class FailedSearch:
    """Failed jobs whose text contains `text` (class, queue, tags, state or exception), of
    job class `job`, on `queue`, tagged `tag`, failed from `since` until `until` (UTC).
    Every criterion left empty matches every row (Horizon searches failed jobs by tag)."""

    text: str = ""
    job: str = ""
    queue: str = ""
    tag: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @property
    def narrowing_texts(self) -> list[str]:
        """The substrings every matching row's text holds: what a text index can find. The
        class is looked for as the JSON string the payload holds it as, quotes included (so
        `shop.Charge` does not find `shop.ChargeAll`); tags have an index of their own."""
        quoted = [json.dumps(self.job)] if self.job else []
        return [self.text, *quoted] if self.text else quoted

    @property
    def checked_exactly_only_in_sql(self) -> bool:
        """True when every row the query returns matches (no class or tag to check after)."""
        return not (self.job or self.tag)

    def holds_for(self, job: FailedJob) -> bool:
        """What a substring cannot tell: the class and the tag are matched exactly."""
        return (not self.job or job.name == self.job) and (not self.tag or self.tag in job.tags)
