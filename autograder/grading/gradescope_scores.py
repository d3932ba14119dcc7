"""Importing the written parts' scores that TAs entered on Gradescope (its per-assignment "Download Grades" CSV).

Gradescope's export has one row per student: `Name` (or `First Name`, `Last Name`), `SID`, `Email`, `Sections`,
`Total Score`, `Max Points`, `Status` (Graded, Ungraded, Missing), `Submission ID`, `Submission Time`, `Lateness
(H:M:S)`, `View Count`, `Submission Count`, then one column per question, titled `<number>: <title> (<points>
pts)`, e.g. `1.2: q2_derivation (6.0 pts)`; a question not graded yet is blank.

Questions are matched to the homework's written-answer cells: by the cell's grade_id in the question's title,
else in order (the questions left and the cells left, in notebook order, with equal points). Rows are matched
to the roster by SID, then by email. The scores become the cells' manual scores in nbgrader's gradebook, the
same place the formgrader writes to, so one gradebook holds every written score. A score a TA entered in the
formgrader is never overwritten by an import (a ledger of what the last import wrote tells the two apart).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import GradescopeScoresError
from autograder.grading.roster import Roster

QUESTION = re.compile(r"^\s*(\d+(?:\.\d+)*)\s*:\s*(.*?)\s*\(\s*([0-9]+(?:\.[0-9]+)?)\s*pts?\s*\)\s*$")
NAME_COLUMNS = ("Name", "First Name", "Last Name")
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Question:
    column: str
    number: str
    title: str
    points: float


@dataclass
class Row:
    line: int
    name: str
    sid: str
    email: str
    status: str
    submitted: str
    scores: dict[str, float | None]  # column -> score (None: not graded yet)


@dataclass
class ImportReport:
    homework: str
    source: Path
    mapping: dict[str, str] = field(default_factory=dict)  # question column -> grade_id
    written: int = 0  # scores written to the gradebook
    unchanged: int = 0
    ungraded: int = 0  # blank question cells (not graded on Gradescope yet)
    unmatched_rows: list[str] = field(default_factory=list)  # rows that match no roster student
    no_row: list[str] = field(default_factory=list)  # roster students without a row
    missing: list[str] = field(default_factory=list)  # rows whose status is Missing (nothing submitted there)
    no_submission: list[str] = field(default_factory=list)  # matched, but no graded notebook in the gradebook
    conflicts: list[str] = field(default_factory=list)  # a TA's formgrader score kept over Gradescope's

    def lines(self) -> list[str]:
        out = [
            f"{self.homework}: Gradescope scores from {self.source.name}: {self.written} written, "
            f"{self.unchanged} unchanged, {self.ungraded} not graded on Gradescope yet",
            "  questions: " + ", ".join(f"{c!r} -> {g}" for c, g in self.mapping.items()),
        ]
        for title, items in (
            ("rows that match no roster student", self.unmatched_rows),
            ("roster students with no row", self.no_row),
            ("rows marked Missing (nothing submitted on Gradescope)", self.missing),
            ("students with scores but no graded notebook (not stored)", self.no_submission),
            ("kept the formgrader's score over Gradescope's", self.conflicts),
        ):
            if items:
                out.append(f"  {title}: " + "; ".join(items))
        return out


# -- reading the export ----------------------------------------------------------------------------------------


def questions(header: list[str]) -> list[Question]:
    found = []
    for column in header:
        m = QUESTION.match(column)
        if m:
            found.append(Question(column, m.group(1), m.group(2), float(m.group(3))))
    return found


def _score(text: str, column: str, line: int, path: Path) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise GradescopeScoresError(f"{path}, line {line}, column {column!r}: {text!r} is not a score") from None


def read(path: Path) -> tuple[list[Question], list[Row]]:
    """The question columns and the rows of a Gradescope grades export."""
    if not path.is_file():
        raise GradescopeScoresError(
            f"{path}: no such file (Gradescope: the assignment's Review Grades > Download Grades > CSV)"
        )
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        if "SID" not in header and "Email" not in header:
            raise GradescopeScoresError(
                f"{path}: no SID or Email column: is this Gradescope's grades export (Download Grades > CSV)?"
            )
        qs = questions(header)
        if not qs:
            raise GradescopeScoresError(
                f"{path}: no question columns like '1: title (6.0 pts)': export the assignment's grades, "
                "not the course gradebook"
            )
        rows = []
        for line, raw in enumerate(reader, start=2):
            name = (raw.get("Name") or f"{raw.get('First Name') or ''} {raw.get('Last Name') or ''}").strip()
            rows.append(
                Row(
                    line=line,
                    name=name,
                    sid=(raw.get("SID") or "").strip(),
                    email=(raw.get("Email") or "").strip(),
                    status=(raw.get("Status") or "").strip(),
                    submitted=(raw.get("Submission Time") or "").strip(),
                    scores={q.column: _score(raw.get(q.column, ""), q.column, line, path) for q in qs},
                )
            )
    return qs, rows


def map_questions(qs: list[Question], written: list[tuple[str, float]], path: Path) -> dict[str, str]:
    """Question column -> written cell grade_id (see the module docstring); 0-point questions are left out."""
    scored = [q for q in qs if q.points > 0]
    ids = [gid for gid, _ in written]
    mapping: dict[str, str] = {}
    for q in scored:
        named = [gid for gid in ids if re.search(rf"(?<![\w]){re.escape(gid)}(?![\w])", q.title)]
        if len(named) == 1:
            mapping[q.column] = named[0]
    if len(set(mapping.values())) != len(mapping):
        raise GradescopeScoresError(f"{path}: two questions name the same cell: {mapping}")
    rest_q = [q for q in scored if q.column not in mapping]
    rest_cells = [(gid, pts) for gid, pts in written if gid not in mapping.values()]
    points = dict(written)
    if len(rest_q) == len(rest_cells) and all(
        abs(q.points - pts) < TOLERANCE for q, (_, pts) in zip(rest_q, rest_cells, strict=True)
    ):
        mapping.update({q.column: gid for q, (gid, _) in zip(rest_q, rest_cells, strict=True)})
    else:
        raise GradescopeScoresError(
            f"{path}: cannot tell which written answer each question grades. Questions left: "
            + ", ".join(f"{q.column!r}" for q in rest_q)
            + "; written cells left: "
            + ", ".join(f"{gid} ({pts:g} pts)" for gid, pts in rest_cells)
            + ". Put each cell's grade_id in its Gradescope question title, or give the questions the cells' "
            "order and points"
        )
    for column, gid in mapping.items():
        q = next(q for q in qs if q.column == column)
        if abs(q.points - points[gid]) > TOLERANCE:
            raise GradescopeScoresError(
                f"{path}: question {column!r} is worth {q.points:g} points but {gid} is worth {points[gid]:g}"
            )
    return mapping


# -- writing into the gradebook ----------------------------------------------------------------------------------


def _ledger(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def import_scores(
    spec,
    export: Path,
    roster: Roster,
    written: list[tuple[str, float]],
    db_url: str,
    course_id: str,
    ledger_path: Path,
    *,
    overwrite: bool = False,
) -> ImportReport:
    """Write the export's scores into the gradebook as the written cells' manual scores; report every row
    and student that did not fit. `written`: the homework's written cells (grade_id, points) in notebook order."""
    from nbgrader.api import MissingEntry

    from autograder.grading.gradebook import open_gradebook

    qs, rows = read(export)
    report = ImportReport(spec.id, export, mapping=map_questions(qs, written, export))
    ledger = _ledger(ledger_path)
    seen: set[str] = set()
    notebook = spec.notebook.removesuffix(".ipynb")
    with open_gradebook(db_url, course_id) as gb:
        for row in rows:
            who = f"line {row.line} ({row.name or '?'}, SID {row.sid or '-'}, {row.email or 'no email'})"
            student = roster.match(row.sid) or roster.match(row.email)
            if student is None:
                report.unmatched_rows.append(who)
                continue
            seen.add(student.id)
            if row.status.lower() == "missing":
                report.missing.append(student.id)
                continue
            graded = {gid: row.scores[c] for c, gid in report.mapping.items() if row.scores[c] is not None}
            report.ungraded += len(report.mapping) - len(graded)
            if not graded:
                continue
            try:
                submitted = gb.find_submission_notebook(notebook, spec.id, student.id)
            except MissingEntry:
                report.no_submission.append(student.id)
                continue
            grades = {g.name: g for g in submitted.grades}
            previous = ledger.setdefault(student.id, {})
            for gid, score in graded.items():
                grade = grades[gid]
                current = grade.manual_score
                if current is not None and abs(current - score) < TOLERANCE:
                    report.unchanged += 1
                elif current is None or overwrite or abs(current - previous.get(gid, float("nan"))) < TOLERANCE:
                    grade.manual_score = score
                    grade.needs_manual_grade = False
                    report.written += 1
                else:
                    report.conflicts.append(f"{student.id} {gid}: formgrader {current:g}, Gradescope {score:g}")
                    continue
                previous[gid] = score
            gb.db.commit()
    report.no_row = [s.id for s in roster if s.id not in seen]
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    ledger_path.write_text(json.dumps(ledger, indent=1, sort_keys=True))
    return report
