"""Late submissions: the deadline from the spec's `due` date, the submission time, and the penalty policy.

The policy (every number is a `grades` option; docs/grading.md, "From graded notebooks to final grades"):
- the deadline is the spec's `due` date at `due_time` (default 23:59) in `timezone` (default UTC); a homework
  without `due` has no deadline, and nothing is late;
- a submission up to `grace_minutes` after the deadline is on time; after that it is late by the number of
  started 24-hour periods since the deadline ("late days");
- each student has `free_days` late days for the whole course, spent in the order of the homeworks' due dates;
- each late day not covered by a free day costs `per_day` percent of the homework's points, never more than the
  student earned (a total never drops below 0);
- a submission more than `max_days` late days late earns nothing.
The submission time is nbgrader's `timestamp.txt` or Gradescope's `:created_at` (recorded with each result);
a submission without one is never counted late, and the report says so.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class LatePolicy:
    per_day: float = 10.0  # percent of the homework's points per late day
    grace_minutes: float = 0.0
    max_days: int | None = 5  # more late days than this: no credit; None: no limit
    free_days: int = 0  # late days without penalty, for the whole course
    due_time: dt.time = dt.time(23, 59)
    timezone: str = "UTC"

    def deadline(self, due: dt.date | None) -> dt.datetime | None:
        if due is None:
            return None
        if isinstance(due, dt.datetime):  # a TOML date-time: its own time (and zone, else ours)
            return due if due.tzinfo else due.replace(tzinfo=ZoneInfo(self.timezone))
        return dt.datetime.combine(due, self.due_time, tzinfo=ZoneInfo(self.timezone))

    def late_days(self, submitted: dt.datetime, deadline: dt.datetime) -> int:
        """Started 24-hour periods after the deadline; 0 within the grace period."""
        late = (submitted - deadline).total_seconds()
        if late <= self.grace_minutes * 60:
            return 0
        return math.ceil(late / 86400)

    def describe(self) -> str:
        limit = f"; more than {self.max_days} late day(s): no credit" if self.max_days is not None else ""
        free = f"; {self.free_days} free late day(s) per student for the course" if self.free_days else ""
        grace = f", {self.grace_minutes:g} min grace" if self.grace_minutes else ""
        return (
            f"due at {self.due_time:%H:%M} {self.timezone} on the due date{grace}; {self.per_day:g}% of the "
            f"homework's points per started late day{free}{limit}"
        )


@dataclass(frozen=True)
class Lateness:
    """One student's one homework."""

    submitted: dt.datetime | None
    deadline: dt.datetime | None
    days: int = 0  # late days
    free_used: int = 0
    fraction: float = 0.0  # of the homework's points taken off
    note: str = ""

    @property
    def penalized_days(self) -> int:
        return self.days - self.free_used

    def penalty(self, points: float) -> float:
        return round(self.fraction * points, 6)

    def describe(self) -> str:
        if self.note:
            return self.note
        if not self.days:
            return "on time" if self.deadline else ""
        free = f", {self.free_used} free" if self.free_used else ""
        return f"{self.days} day(s) late{free}"


def parse_time(text: str | None) -> dt.datetime | None:
    """nbgrader's timestamp.txt ("2024-03-01 10:00:00.123456 UTC") or Gradescope's created_at ("2024-03-01
    10:00:00.123 -0800"); a time without a zone is UTC (nbgrader's convention). None when missing or unreadable."""
    if not text or not str(text).strip():
        return None
    from dateutil import parser

    try:
        parsed = parser.parse(str(text).strip())
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def assess(policy: LatePolicy, homeworks: list[tuple[str, dt.date | None, str | None]]) -> dict[str, Lateness]:
    """One student's lateness for each homework: (homework id, due date, submission time text), spending the
    student's free late days in the order of the due dates."""
    free_left = policy.free_days
    out: dict[str, Lateness] = {}
    ordered = sorted(homeworks, key=lambda h: (h[1] is None, h[1] or dt.date.max, h[0]))
    for homework, due, stamp in ordered:
        deadline = policy.deadline(due)
        submitted = parse_time(stamp)
        if deadline is None:
            out[homework] = Lateness(submitted, None)
            continue
        if stamp is None:
            out[homework] = Lateness(None, deadline, note="no submission time recorded: not counted late")
            continue
        if submitted is None:
            out[homework] = Lateness(None, deadline, note=f"submission time unreadable ({stamp!r}): not counted late")
            continue
        days = policy.late_days(submitted, deadline)
        if policy.max_days is not None and days > policy.max_days:
            out[homework] = Lateness(
                submitted, deadline, days, 0, 1.0, f"{days} day(s) late, past the {policy.max_days}-day limit"
            )
            continue
        free = min(days, free_left)
        free_left -= free
        out[homework] = Lateness(submitted, deadline, days, free, min(1.0, (days - free) * policy.per_day / 100))
    return out
