"""Final grades: one row per roster student, per homework and for the course, from the one place that holds every
score (nbgrader's gradebook: the autograder's scores, the TAs' formgrader scores and the imported Gradescope
scores), the grading records (status and reason of each submission, its time) and the late policy.

Per homework a student is:
- `graded`: every point is known;
- `needs manual grading`: a written answer (or a test flagged for review) waits for a TA; the total is "pending",
  never a number that counts the ungraded part as 0;
- `missing`: on the roster, nothing submitted (0 points);
- `rejected`: the upload could not be graded (not a notebook, empty, ...): 0 points, the reason says why;
- `error`: the grader itself failed; no total until it is graded again (the reason is the first line of its message).
Submissions from students not on the roster are listed apart ("not on the roster"), never dropped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.spec import Spec
from autograder.grading import results
from autograder.grading.late import Lateness, LatePolicy, assess
from autograder.grading.results import PENDING, Result, read_results
from autograder.grading.roster import Roster, Student

GRADED, NEEDS_MANUAL, MISSING, REJECTED, ERROR = "graded", "needs manual grading", "missing", "rejected", "error"
NOT_ON_ROSTER = "not on the roster"


@dataclass
class ProblemScore:
    auto: float = 0.0
    manual: float | None = 0.0  # None: pending


@dataclass
class Submission:
    """What the gradebook and the grading record say about one submission id."""

    student_id: str
    status: str = GRADED  # GRADED, NEEDS_MANUAL, REJECTED or ERROR
    reason: str = ""
    problems: dict[str, ProblemScore] = field(default_factory=dict)
    timestamp: str | None = None
    waiting: list[str] = field(default_factory=list)  # cells a TA has not graded yet
    written: dict[str, float | None] = field(default_factory=dict)  # written cell -> its score (None: pending)


@dataclass
class HomeworkGrade:
    spec: Spec
    student: Student | None
    submission: Submission | None
    lateness: Lateness | None = None
    note: str = ""  # e.g. several submissions matched this student

    @property
    def status(self) -> str:
        return self.submission.status if self.submission else MISSING

    @property
    def reason(self) -> str:
        parts = [
            self.submission.reason if self.submission else "no submission",
            self.lateness.note if self.lateness else "",
            self.note,
        ]
        return "; ".join(p for p in parts if p)

    def earned(self) -> float | None:
        """Points before the late penalty; None while anything is pending or the grader failed."""
        if self.submission is None:
            return 0.0
        if self.status in (ERROR, NEEDS_MANUAL):
            return None
        return sum(p.auto + (p.manual or 0.0) for p in self.submission.problems.values())

    def penalty(self) -> float:
        return self.lateness.penalty(self.spec.total) if self.lateness else 0.0

    def total(self) -> float | None:
        earned = self.earned()
        return None if earned is None else max(0.0, round(earned - self.penalty(), 6))

    def total_text(self) -> str:
        total = self.total()
        if total is not None:
            return f"{total:g}"
        return ERROR if self.status == ERROR else PENDING


# -- reading what grading left ------------------------------------------------------------------------------------


def first_line(text: str, limit: int = 160) -> str:
    line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def read_records(results_dir: Path, homework: str) -> dict[str, Result]:
    """Submission id -> its grading record (results/<student>.json; a group's record counts for each member)."""
    records: dict[str, Result] = {}
    for result in read_results(results_dir, homework):
        for student in result.students or [result.student]:
            records[student] = result
    return records


def read_gradebook(spec: Spec, db_url: str, course_id: str) -> dict[str, Submission] | None:
    """Submission id -> its scores per problem from the gradebook; None when the homework was never graded."""
    from nbgrader.api import MissingEntry

    from autograder.grading.gradebook import open_gradebook

    out: dict[str, Submission] = {}
    with open_gradebook(db_url, course_id) as gb:
        try:
            assignment = gb.find_assignment(spec.id)
        except MissingEntry:
            return None
        for submitted in assignment.submissions:
            sub = Submission(
                submitted.student.id,
                problems={p.id: ProblemScore() for p in spec.problems},
                timestamp=submitted.timestamp.isoformat() + "+00:00" if submitted.timestamp else None,
            )
            for nb in submitted.notebooks:
                for grade in nb.grades:
                    _add_grade(spec, sub, grade)
            if sub.waiting:
                sub.status = NEEDS_MANUAL
                sub.reason = "waiting for a TA: " + ", ".join(sorted(sub.waiting))
            out[sub.student_id] = sub
    return out


def _add_grade(spec: Spec, sub: Submission, grade) -> None:
    """One grade cell into its problem: tests in the autograded column (a TA's override counts), written answers
    in the manual column (pending until a TA's score; an unanswered one is 0)."""
    problem = spec.problem_of(grade.name)
    if problem is None or not grade.max_score:
        return
    scores = sub.problems[problem.id]
    extra = grade.extra_credit or 0.0
    if grade.cell_type == "code":
        if grade.needs_manual_grade and grade.manual_score is None:
            sub.waiting.append(grade.name)  # a rule the grader could not decide
        scores.auto += (grade.manual_score if grade.manual_score is not None else grade.auto_score or 0.0) + extra
        return
    if grade.manual_score is not None:
        given = grade.manual_score + extra
    elif grade.auto_score is not None and not grade.needs_manual_grade:
        given = grade.auto_score + extra  # unanswered: 0 and "No response."
    else:
        sub.waiting.append(grade.name)
        given = None
    sub.written[grade.name] = given
    scores.manual = None if given is None or scores.manual is None else scores.manual + given


def merge_record(sub: Submission | None, record: Result | None, student_id: str, spec: Spec) -> Submission | None:
    """The gradebook's scores with the grading record's status and time: a grader error or a rejection wins."""
    if record is None:
        return sub
    status = record.status
    if status in (results.ERROR, results.REJECTED) or sub is None:
        reason = first_line(record.message)
        if status == results.REJECTED:
            state = REJECTED
        elif status == results.ERROR:
            state, reason = ERROR, reason or "the grader failed"
        else:  # a record without a gradebook entry: `grade` wrote to another gradebook
            state, reason = ERROR, "graded, but not in this gradebook (pass the --db that `grade` used)"
        sub = Submission(student_id, state, reason, {p.id: ProblemScore() for p in spec.problems})
    sub.timestamp = record.timestamp or sub.timestamp
    return sub


# -- one homework, the course ---------------------------------------------------------------------------------------


@dataclass
class HomeworkReport:
    spec: Spec
    rows: list[HomeworkGrade]
    unknown: list[HomeworkGrade]  # submissions from ids that match nobody on the roster
    notes: list[str] = field(default_factory=list)


def homework_grades(
    spec: Spec, roster: Roster, results_dir: Path, db_url: str, course_id: str
) -> HomeworkReport | None:
    """Every roster student's grade for one homework (lateness is filled in by `course_grades`); None when the
    homework has neither grading records nor gradebook entries (not graded yet)."""
    records = read_records(results_dir, spec.id)
    book = read_gradebook(spec, db_url, course_id)
    if not records and not book:
        return None
    book = book or {}
    ids = sorted(set(records) | set(book))
    by_student: dict[str, list[str]] = {}
    unknown = []
    for sid in ids:
        sub = merge_record(book.get(sid), records.get(sid), sid, spec)
        student = roster.match(sid)
        if student is None:
            unknown.append(HomeworkGrade(spec, None, sub, note=f"submission id {sid!r}"))
        else:
            by_student.setdefault(student.id, []).append(sid)
    rows, notes = [], []
    for student in roster:
        matched = by_student.get(student.id, [])
        chosen = student.id if student.id in matched else (matched[0] if matched else None)
        sub = merge_record(book.get(chosen), records.get(chosen), chosen, spec) if chosen else None
        note = ""
        if len(matched) > 1:
            note = f"several submissions match this student ({', '.join(matched)}); graded: {chosen}"
            notes.append(f"{student.id}: {note}")
        rows.append(HomeworkGrade(spec, student, sub, note=note))
    return HomeworkReport(spec, rows, unknown, notes)


@dataclass
class CourseReport:
    homeworks: list[HomeworkReport]
    roster: Roster
    policy: LatePolicy
    skipped: list[str] = field(default_factory=list)  # homeworks not graded yet

    def total(self, student_id: str) -> tuple[float | None, float]:
        """(the student's course total, or None while anything is pending; the maximum)."""
        got, top, pending = 0.0, 0.0, False
        for hw in self.homeworks:
            row = next(r for r in hw.rows if r.student.id == student_id)
            top += hw.spec.total
            value = row.total()
            pending |= value is None
            got += value or 0.0
        return (None if pending else round(got, 6)), top


def course_grades(
    specs: list[Spec], roster: Roster, results_root: Path, db_url: str, course_id: str, policy: LatePolicy
) -> CourseReport:
    """Every homework that was graded, lateness applied per student across the course (free late days are spent
    in the order of the due dates)."""
    reports, skipped = [], []
    for spec in specs:
        report = homework_grades(spec, roster, results_root / spec.id, db_url, course_id)
        if report is None:
            skipped.append(spec.id)
        else:
            reports.append(report)
    for student in roster:
        rows = [next(r for r in hw.rows if r.student.id == student.id) for hw in reports]
        scored = [r for r in rows if r.status in (GRADED, NEEDS_MANUAL)]  # nothing to take off the others
        late = assess(policy, [(r.spec.id, r.spec.due, r.submission.timestamp) for r in scored])
        for r in scored:
            r.lateness = late[r.spec.id]
    for hw in reports:
        for r in hw.unknown:
            if r.status in (GRADED, NEEDS_MANUAL):
                r.lateness = assess(policy, [(hw.spec.id, hw.spec.due, r.submission.timestamp)])[hw.spec.id]
    return CourseReport(reports, roster, policy, skipped)


# -- CSV files ------------------------------------------------------------------------------------------------------


def _num(value: float | None) -> str:
    return PENDING if value is None else f"{value:g}"


def homework_columns(spec: Spec) -> list[str]:
    per_problem = [c for p in spec.problems for c in (f"{p.id}_auto", f"{p.id}_manual")]
    return [
        "id",
        "name",
        "email",
        "status",
        "reason",
        "submitted",
        "late_days",
        "free_late_days",
        *per_problem,
        "autograded",
        "manual",
        "late_penalty",
        "total",
        "max",
    ]


def homework_row(row: HomeworkGrade) -> dict[str, str]:
    spec, sub = row.spec, row.submission
    student = row.student
    out = {
        "id": student.id if student else (sub.student_id if sub else ""),
        "name": student.name if student else "",
        "email": student.email if student else "",
        "status": row.status if student else f"{row.status}, {NOT_ON_ROSTER}",
        "reason": row.reason,
        "submitted": row.lateness.submitted.isoformat() if row.lateness and row.lateness.submitted else "",
        "late_days": str(row.lateness.days) if row.lateness else "",
        "free_late_days": str(row.lateness.free_used) if row.lateness else "",
        "late_penalty": f"{row.penalty():g}",
        "total": row.total_text(),
        "max": f"{spec.total:g}",
    }
    pending = sub is not None and sub.status == ERROR
    auto_sum, manual_sum = 0.0, 0.0
    for p in spec.problems:
        score = sub.problems.get(p.id, ProblemScore()) if sub else ProblemScore()
        out[f"{p.id}_auto"] = ERROR if pending else f"{score.auto:g}"
        out[f"{p.id}_manual"] = ERROR if pending else _num(score.manual)
        auto_sum += score.auto
        manual_sum = None if manual_sum is None or score.manual is None else manual_sum + score.manual
    out["autograded"] = ERROR if pending else f"{auto_sum:g}"
    out["manual"] = ERROR if pending else _num(manual_sum)
    return out


def write_homework_csv(report: HomeworkReport, target: Path) -> Path:
    with target.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=homework_columns(report.spec))
        writer.writeheader()
        writer.writerows(homework_row(r) for r in report.rows + report.unknown)
    return target


def write_course_csv(course: CourseReport, target: Path) -> Path:
    ids = [hw.spec.id for hw in course.homeworks]
    with target.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "email", *ids, "total", "max", "status"])
        for student in course.roster:
            rows = [next(r for r in hw.rows if r.student.id == student.id) for hw in course.homeworks]
            total, top = course.total(student.id)
            writer.writerow(
                [student.id, student.name, student.email, *(r.total_text() for r in rows), _num(total), f"{top:g}"]
                + [course_status(rows)]
            )
    return target


def course_status(rows: list[HomeworkGrade]) -> str:
    """ "complete", or what is left: the homeworks pending, missing or failed."""
    parts = []
    for label, statuses in (
        ("pending", (NEEDS_MANUAL,)),
        ("grader error", (ERROR,)),
        ("missing", (MISSING,)),
        ("rejected", (REJECTED,)),
    ):
        names = [r.spec.id for r in rows if r.status in statuses]
        if names:
            parts.append(f"{label}: {', '.join(names)}")
    return "; ".join(parts) or "complete"


CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def write_canvas_csv(course: CourseReport, target: Path) -> Path:
    """Canvas's gradebook import: Student ("Last, First"), ID (Canvas's own, left empty), SIS User ID (the roster
    id), SIS Login ID (the roster email), Section, then one column per homework (a new column creates the
    assignment), its points in the "Points Possible" row. A total that is not known yet (pending, grader error)
    is left empty, which Canvas reads as "no grade", never 0."""
    with target.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CANVAS_FIXED + [hw.spec.id for hw in course.homeworks])
        writer.writerow(["Points Possible", "", "", "", ""] + [f"{hw.spec.total:g}" for hw in course.homeworks])
        for student in course.roster:
            rows = [next(r for r in hw.rows if r.student.id == student.id) for hw in course.homeworks]
            totals = [r.total() for r in rows]
            writer.writerow(
                [student.sortable_name, "", student.id, student.email, ""]
                + ["" if t is None else f"{t:g}" for t in totals]
            )
    return target


# -- what `grades` prints -------------------------------------------------------------------------------------------


def homework_lines(report: HomeworkReport) -> list[str]:
    spec = report.spec
    lines = [
        f"{spec.id}: {spec.title} ({spec.total:g} points" + (f", due {spec.due})" if spec.due else ", no due date)")
    ]
    width = max([len(r.student.id) for r in report.rows] + [7])
    for r in report.rows + report.unknown:
        sid = r.student.id if r.student else r.submission.student_id
        late = r.lateness.describe() if r.lateness and not r.lateness.note else ""  # a note is in the reason
        penalty = f", late penalty -{r.penalty():g}" if r.penalty() else ""
        status = r.status if r.student else f"{r.status}, {NOT_ON_ROSTER}"
        reason = f" ({r.reason})" if r.reason and r.status != GRADED else ""
        late_text = f" [{late}{penalty}]" if late or penalty else ""
        lines.append(f"  {sid:<{width}}  {r.total_text():>8} / {spec.total:g}  {status}{reason}{late_text}")
    lines += [f"  note: {n}" for n in report.notes]
    return lines


def course_lines(course: CourseReport) -> list[str]:
    ids = [hw.spec.id for hw in course.homeworks]
    lines = [f"Course ({', '.join(ids)}; late policy: {course.policy.describe()})"]
    width = max([len(s.id) for s in course.roster] + [7])
    for student in course.roster:
        rows = [next(r for r in hw.rows if r.student.id == student.id) for hw in course.homeworks]
        total, top = course.total(student.id)
        lines.append(f"  {student.id:<{width}}  {_num(total):>8} / {top:g}  {course_status(rows)}")
    strangers = [f"{r.submission.student_id} ({hw.spec.id})" for hw in course.homeworks for r in hw.unknown]
    if strangers:
        lines.append(f"  submissions from students not on the roster (in no total): {', '.join(strangers)}")
    if course.skipped:
        lines.append(f"  not graded yet (left out): {', '.join(course.skipped)}")
    return lines


# -- the students' feedback ------------------------------------------------------------------------------------------


def final_lines(row: HomeworkGrade) -> tuple[str, ...]:
    """What the feedback page adds below the autograder's summary once `grades` ran."""
    lines = []
    if row.lateness and row.penalty():
        lines.append(f"Late: {row.lateness.describe()}, -{row.penalty():g} points")
    total = row.total()
    state = f"{total:g} / {row.spec.total:g}" if total is not None else f"{PENDING} (written answers still to grade)"
    return (*lines, f"Total: {state}")


def refresh_feedback(course: CourseReport, results_root: Path, course_dir: Path) -> list[Path]:
    """Rewrite each graded submission's feedback page with the TAs' scores of its written answers (pending until
    then), its late penalty and its total. Pages without their graded notebook in `course_dir` are left as
    they are."""
    from autograder.course import cells as nbu
    from autograder.grading import feedback

    pages = []
    for hw in course.homeworks:
        scrub = feedback.hidden_lines(nbu.read(hw.spec.source_notebook))
        records = read_records(results_root / hw.spec.id, hw.spec.id)
        for row in hw.rows + hw.unknown:
            sub = row.submission
            result = records.get(sub.student_id) if sub and sub.status in (GRADED, NEEDS_MANUAL) else None
            if not result or not result.feedback:
                continue
            notebook = course_dir / "autograded" / result.student / hw.spec.id / hw.spec.notebook
            if not notebook.is_file():
                continue
            for answer in result.written:
                answer.score = sub.written.get(answer.grade_id)
            target = Path(result.feedback)
            feedback.write(result, hw.spec, target, nbu.read(notebook), scrub=scrub, final=final_lines(row))
            pages.append(target)
    return pages


# -- the `grades` command -----------------------------------------------------------------------------------------


@dataclass
class Outcome:
    course: CourseReport
    files: list[Path]
    lines: list[str]


def written_cells(spec: Spec) -> list[tuple[str, float]]:
    """The homework's written-answer cells (grade_id, points), in notebook order."""
    from autograder.course import cells as nbu

    nb = nbu.read(spec.source_notebook)
    return [(nbu.grade_id(c), nbu.points(c)) for c in nb.cells if nbu.is_manual(c) and nbu.points(c) > 0]


def run(
    specs: list[Spec],
    roster_path: Path,
    results_root: Path,
    out: Path,
    db_url: str,
    policy: LatePolicy,
    *,
    gradescope: dict[str, Path] | None = None,
    overwrite: bool = False,
    course_id: str | None = None,
    course_dir: Path | None = None,
) -> Outcome:
    """Read the roster (its names and emails go into the gradebook), import Gradescope's scores, then write
    OUT/<hw>.csv, OUT/course.csv and OUT/canvas.csv; return what to print."""
    from autograder.grading import engine, gradescope_scores, roster

    course_id = course_id or engine.course_id()
    students = roster.read(roster_path)
    roster.sync_gradebook(students, db_url, course_id)
    lines: list[str] = []
    by_id = {s.id: s for s in specs}
    for homework, export in (gradescope or {}).items():
        spec = by_id[homework]
        report = gradescope_scores.import_scores(
            spec,
            export,
            students,
            written_cells(spec),
            db_url,
            course_id,
            results_root / spec.id / "gradescope-import.json",
            overwrite=overwrite,
        )
        lines += report.lines() + [""]
    course = course_grades(specs, students, results_root, db_url, course_id, policy)
    out.mkdir(parents=True, exist_ok=True)
    files = [write_homework_csv(hw, out / f"{hw.spec.id}.csv") for hw in course.homeworks]
    files += [write_course_csv(course, out / "course.csv"), write_canvas_csv(course, out / "canvas.csv")]
    for hw in course.homeworks:
        lines += homework_lines(hw) + [""]
    lines += course_lines(course)
    lines += ["", "Written: " + ", ".join(str(f) for f in files)]
    if course_dir is not None:
        pages = refresh_feedback(course, results_root, course_dir)
        lines.append(f"Feedback pages updated with the TAs' scores, late penalties and totals: {len(pages)}")
    return Outcome(course, files, lines)


# -- command line ---------------------------------------------------------------------------------------------------


def _homework_file(text: str) -> tuple[str, Path]:
    import argparse

    homework, sep, path = text.partition("=")
    if not sep or not homework or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: write hwN=FILE")
    return homework, Path(path)


def _clock(text: str):
    import argparse
    import datetime as dt

    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write HH:MM") from None


def add_arguments(p) -> None:
    """`grades` options (the homeworks are cli.py's `add_homeworks`)."""
    from autograder.course.paths import BUILD, ROOT

    policy = LatePolicy()
    p.add_argument("--roster", type=Path, default=ROOT / "roster.csv", help="id,name,email (default: %(default)s)")
    p.add_argument(
        "--db", default=None, help="the course gradebook, any nbgrader db_url (default: sqlite gradebook.db)"
    )
    p.add_argument(
        "--results",
        type=Path,
        default=BUILD / "grades",
        help="where `grade` wrote each homework's results (RESULTS/hwN; default: %(default)s)",
    )
    p.add_argument("-o", "--out", type=Path, default=BUILD / "grades" / "final", help="default: %(default)s")
    p.add_argument(
        "--course-dir",
        type=Path,
        default=None,
        help="where `grade` put autograded/ (default: the gradebook's folder); feedback pages are rewritten from it",
    )
    p.add_argument(
        "--gradescope-scores",
        type=_homework_file,
        action="append",
        default=[],
        metavar="hwN=FILE",
        help="first import Gradescope's grades export (Download Grades > CSV) of hwN's written parts (repeatable)",
    )
    p.add_argument(
        "--overwrite-manual",
        action="store_true",
        help="let imported Gradescope scores replace scores a TA entered in the formgrader",
    )
    late = p.add_argument_group("late policy (docs/grading.md)")
    late.add_argument(
        "--late-per-day",
        type=float,
        default=policy.per_day,
        help="%% of a homework's points per late day (%(default)s)",
    )
    late.add_argument(
        "--grace-minutes",
        type=float,
        default=policy.grace_minutes,
        help="still on time after the deadline (%(default)s)",
    )
    late.add_argument(
        "--late-limit",
        type=int,
        default=policy.max_days,
        help="more late days earn nothing; -1: no limit (%(default)s)",
    )
    late.add_argument(
        "--free-late-days", type=int, default=policy.free_days, help="per student, for the course (%(default)s)"
    )
    late.add_argument("--due-time", type=_clock, default=policy.due_time, help="time of day of a due date (23:59)")
    late.add_argument(
        "--timezone", default=policy.timezone, help="of the due dates, e.g. America/New_York (%(default)s)"
    )


def _course_dir(db_url: str) -> Path | None:
    """`grade`'s default: autograded/ beside a SQLite gradebook (None for another database: pass --course-dir)."""
    return Path(db_url.removeprefix("sqlite:///")).parent if db_url.startswith("sqlite:///") else None


def command(args) -> int:
    from autograder.course.spec import select
    from autograder.errors import CourseError
    from autograder.grading import gradebook

    specs = select(args.homeworks)
    unknown = [hw for hw, _ in args.gradescope_scores if hw not in {s.id for s in specs}]
    if unknown:
        raise CourseError(f"--gradescope-scores names {', '.join(unknown)}, not among the homeworks asked for")
    policy = LatePolicy(
        per_day=args.late_per_day,
        grace_minutes=args.grace_minutes,
        max_days=None if args.late_limit is not None and args.late_limit < 0 else args.late_limit,
        free_days=args.free_late_days,
        due_time=args.due_time,
        timezone=args.timezone,
    )
    outcome = run(
        specs,
        args.roster,
        args.results,
        args.out,
        args.db or gradebook.DEFAULT_DB_URL,
        policy,
        gradescope=dict(args.gradescope_scores),
        overwrite=args.overwrite_manual,
        course_dir=args.course_dir or _course_dir(args.db or gradebook.DEFAULT_DB_URL),
    )
    print("\n".join(outcome.lines))
    return 0
