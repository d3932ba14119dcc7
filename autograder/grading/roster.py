"""The course roster (`roster.csv`: id, name, email): who should have a grade, and who a submission belongs to.

A submission's student id (its folder name, nbgrader's student id, or the id Gradescope's export gave) is matched
to the roster by id, then by email, then by the email's local part (Gradescope exports without a student id name
folders by the email's local part). Matching never guesses further: whatever matches nobody is reported.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import RosterError

COLUMNS = ("id", "name", "email")


@dataclass(frozen=True)
class Student:
    id: str
    name: str
    email: str

    @property
    def first_last(self) -> tuple[str, str]:
        """(first name, last name) for nbgrader's gradebook: the last word is the last name."""
        first, _, last = self.name.strip().rpartition(" ")
        return (first, last) if first else (last, "")

    @property
    def sortable_name(self) -> str:
        """ "Last, First", as Canvas lists students."""
        first, last = self.first_last
        return f"{last}, {first}" if first and last else self.name


@dataclass
class Roster:
    students: list[Student]
    path: Path | None = None

    def __post_init__(self) -> None:
        self._by_id = {s.id: s for s in self.students}
        self._by_email = {s.email.lower(): s for s in self.students if s.email}
        locals_ = [s.email.lower().split("@")[0] for s in self.students if s.email]
        self._by_local = {
            s.email.lower().split("@")[0]: s
            for s in self.students
            if s.email and locals_.count(s.email.lower().split("@")[0]) == 1
        }

    def __iter__(self):
        return iter(self.students)

    def __len__(self) -> int:
        return len(self.students)

    def get(self, student_id: str) -> Student | None:
        return self._by_id.get(student_id)

    def match(self, key: str) -> Student | None:
        """The roster student a submission id, a Gradescope SID or an email belongs to, or None."""
        key = (key or "").strip()
        if not key:
            return None
        lowered = key.lower()
        return self._by_id.get(key) or self._by_email.get(lowered) or self._by_local.get(lowered)


def read(path: Path) -> Roster:
    """Read `roster.csv` (header `id,name,email`; more columns are allowed and ignored)."""
    if not path.is_file():
        raise RosterError(
            f"{path}: no roster. Write a CSV file with the header `id,name,email` and one line per student "
            "(id: the student's id in submissions and the gradebook), or pass --roster"
        )
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise RosterError(f"{path}: the header must name {', '.join(COLUMNS)}; missing: {', '.join(missing)}")
        students, seen = [], {}
        for line, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            if not any(row.get(c) for c in COLUMNS):
                continue  # a blank line
            if not row["id"]:
                raise RosterError(f"{path}, line {line}: no id for {row['name'] or row['email']!r}")
            if row["id"] in seen:
                raise RosterError(f"{path}, line {line}: id {row['id']!r} is already on line {seen[row['id']]}")
            seen[row["id"]] = line
            students.append(Student(row["id"], row["name"], row["email"]))
    return Roster(students, path)


def sync_gradebook(roster: Roster, db_url: str, course_id: str) -> None:
    """Names and emails into nbgrader's gradebook, so that the formgrader shows who a submission is from."""
    from autograder.grading.gradebook import open_gradebook

    with open_gradebook(db_url, course_id) as gb:
        for s in roster:
            first, last = s.first_last
            gb.update_or_create_student(s.id, first_name=first, last_name=last, email=s.email or None)
