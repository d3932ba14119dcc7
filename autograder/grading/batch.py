"""`python -m autograder grade hwN SUBMISSIONS [-j N] [-o OUT]`: grade a class's submissions in parallel.

Each submission is graded by the engine (`engine.Grader`) in one of N warm worker processes, its kernel in the
sandbox and its tests on the trusted side. As results arrive they are written to OUT/results/<student>.json,
merged into the course gradebook, and the progress bar moves; at the end OUT/grades.csv has one row per
student. Feedback lands in OUT/feedback/<student>/hwN.html, and the graded notebook in the course folder's
autograded/<student>/hwN/, where nbgrader's formgrader shows it to the TAs.

A second run skips every submission whose files are unchanged since it was graded (unless --force); a
submission the grader itself failed on (status "error") is always tried again. One bad submission never stops
the batch; a worker process that dies is replaced and its submission retried once.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.paths import BUILD, tool_env
from autograder.course.policy import Limits
from autograder.course.spec import Spec, select
from autograder.errors import GradingError
from autograder.grading import submissions

RETRIES = 1  # a submission whose worker died is tried once more in a fresh worker


@dataclass
class Summary:
    graded: int = 0
    rejected: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0
    prepare_seconds: float = 0.0  # the one-off nbgrader generate_assignment and gradebook set-up
    csv: Path | None = None
    results: list = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # regraded students whose outcome differs


@dataclass(frozen=True)
class Change:
    """A student's autograded outcome before and after a regrade (a test fixed, `grade --force`)."""

    student: str
    old_status: str
    old_score: float
    new_status: str
    new_score: float

    def describe(self) -> str:
        old = f"{self.old_score:g}" + (f" ({self.old_status})" if self.old_status != "graded" else "")
        new = f"{self.new_score:g}" + (f" ({self.new_status})" if self.new_status != "graded" else "")
        return f"{self.student}: {old} -> {new}"


def _change(previous: Path, result) -> Change | None:
    """How `result` differs from the record it replaces (None: first grading, or the same outcome)."""
    from autograder.grading.results import Result

    try:
        old = Result.read(previous)
    except GradingError:
        return None
    if old.homework != result.homework or (old.status, old.score) == (result.status, result.score):
        return None
    return Change(result.student, old.status, old.score, result.status, result.score)


# -- worker processes -----------------------------------------------------------------------------------------

_GRADER = None


def _init_worker(setup, slots) -> None:
    """Each worker takes a slot (its kernel user) and keeps one Grader for all its submissions."""
    import warnings

    from autograder.grading.engine import Grader

    warnings.filterwarnings("ignore", module="nbgrader")  # nbgrader's own SQLAlchemy warnings
    global _GRADER
    _GRADER = Grader(setup, slot=slots.get())


def _grade_in_worker(sub) -> dict:
    return _GRADER.grade(sub).to_dict()


# -- the batch ------------------------------------------------------------------------------------------------


def record_path(out: Path, student: str) -> Path:
    return out / "results" / f"{student}.json"


def already_graded(out: Path, sub, homework: str) -> bool:
    from autograder.grading.results import GRADED, REJECTED, Result

    path = record_path(out, sub.student)
    if not path.exists():
        return False
    try:
        record = Result.read(path)
    except GradingError:
        return False  # graded again, which writes a good record
    return (
        record.homework == homework and record.status in (GRADED, REJECTED) and record.digest == submissions.digest(sub)
    )


def _scratch(spec: Spec) -> Path:
    """This batch's private folder (the kernels' own file systems do not contain it, wherever it is)."""
    return Path(tempfile.mkdtemp(prefix=f"grading-{spec.id}-"))


def grade_batch(
    spec: Spec,
    source: Path,
    out: Path,
    *,
    jobs: int | None = None,
    force: bool = False,
    db_url: str | None = None,
    limits: Limits | None = None,
    isolation: str = "full",
    course_dir: Path | None = None,
    progress: bool = True,
    log=print,
) -> Summary:
    """Grade every submission in `source` (see the module docstring); return counts and the CSV path."""
    from autograder.grading import engine, gradebook
    from autograder.grading.results import ERROR, Result

    start = time.monotonic()
    os.environ["PATH"] = tool_env()["PATH"]  # nbgrader runs `alembic` when it creates a gradebook
    jobs = jobs or os.cpu_count() or 1
    db_url = db_url or gradebook.DEFAULT_DB_URL
    limits = (limits or Limits.for_homework(spec.quick_seconds)).share_cores(jobs)
    out = out.resolve()
    (out / "results").mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)  # other students' feedback and grades: not for the kernels' users
    scratch = _scratch(spec)
    summary = Summary()
    try:
        subs = submissions.discover(source.resolve(), spec.id, spec.notebook, scratch / "input")
        submissions.unique_students(subs)
        todo = [s for s in subs if force or not already_graded(out, s, spec.id)]
        summary.skipped = len(subs) - len(todo)
        if summary.skipped:
            log(f"[{spec.id}] {summary.skipped} submission(s) already graded and unchanged: skipped (--force regrades)")
        if todo:
            log(f"[{spec.id}] preparing the assignment (nbgrader generate_assignment) ...")
            started = time.monotonic()
            setup = engine.prepare(
                spec,
                scratch,
                limits,
                isolation=isolation,
                feedback_dir=out / "feedback",
                autograded_dir=course_dir or _course_dir(db_url, out),
            )
            engine.check_isolation(setup)  # refuses here, once, when the machine cannot isolate as asked
            gradebook.copy_assignment(
                f"sqlite:///{Path(setup.template) / 'gradebook.db'}", db_url, spec, setup.course_id
            )
            summary.prepare_seconds = time.monotonic() - started
            log(
                f"[{spec.id}] grading {len(todo)} submission(s), {min(jobs, len(todo))} at a time; limits: "
                f"{limits.describe()}"
            )
            for data in _run_pool(setup, todo, min(jobs, len(todo)), progress, spec.id):
                result = Result.from_dict(data)
                change = _change(record_path(out, result.student), result)
                if change:
                    summary.changes.append(change)
                record_path(out, result.student).write_text(json.dumps(data, indent=1))
                if result.status != ERROR:
                    gradebook.merge(db_url, spec, result, setup.course_id)
                summary.results.append(result)
                key = result.status if result.status != ERROR else "errors"
                setattr(summary, key, getattr(summary, key) + 1)
        summary.csv = write_csv(spec, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    summary.seconds = time.monotonic() - start
    return summary


def _course_dir(db_url: str, out: Path) -> Path:
    """Where the formgrader looks for autograded/: beside a SQLite gradebook, else in OUT."""
    return Path(db_url.removeprefix("sqlite:///")).parent if db_url.startswith("sqlite:///") else out


def _run_pool(setup, todo: list, jobs: int, progress: bool, label: str):
    """Yield result dicts as workers finish; replace a pool whose worker died, retrying its work once."""
    from tqdm import tqdm

    from autograder.grading.results import Result

    # fork, not spawn: spawn re-runs the __main__ module in each worker, and `python -m autograder` is a CLI.
    # The pool is created and fed before the progress bar starts its thread, so no thread is forked.
    ctx = multiprocessing.get_context("fork")
    attempts = {id(s): 0 for s in todo}
    queue = list(todo)
    bar = None
    try:
        while queue:
            slots = ctx.Queue()
            for k in range(jobs):
                slots.put(k)
            with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker, initargs=(setup, slots)) as pool:
                pending = {pool.submit(_grade_in_worker, s): s for s in queue}
                queue = []
                if bar is None:
                    bar = tqdm(total=len(todo), desc=f"grading {label}", unit="submission", disable=not progress)
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        sub = pending.pop(future)
                        try:
                            data = future.result()
                        except BrokenProcessPool:
                            attempts[id(sub)] += 1
                            if attempts[id(sub)] <= RETRIES:
                                queue.append(sub)
                                continue
                            message = "the grading worker process died twice on this submission"
                            data = Result(
                                setup_homework(setup), sub.student, sub.students, "error", message=message
                            ).to_dict()
                        bar.update(1)
                        bar.set_postfix_str(f"{sub.student}: {data['status']} {Result.from_dict(data).score:g}")
                        yield data
    finally:
        if bar is not None:
            bar.close()


def setup_homework(setup) -> str:
    return Path(setup.spec_path).stem


# -- reports --------------------------------------------------------------------------------------------------


def write_csv(spec: Spec, out: Path) -> Path:
    """OUT/grades.csv from every result record of this homework in OUT/results (one row per student)."""
    from autograder.grading.results import Result, read_results

    rows = []
    for result in read_results(out, spec.id):
        link = os.path.relpath(result.feedback, out) if result.feedback else ""
        rows += result.csv_rows(spec, feedback=link)
    target = out / "grades.csv"
    with target.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=Result.csv_columns(spec))
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["student"]))
    return target


def table(summary: Summary) -> str:
    return (
        f"graded {summary.graded}, rejected {summary.rejected}, grader errors {summary.errors}, "
        f"skipped {summary.skipped} in {summary.seconds:.0f} s (assignment prepared in {summary.prepare_seconds:.0f} s)"
        f"; grades: {summary.csv}"
    )


# -- command line ---------------------------------------------------------------------------------------------


def add_arguments(p) -> None:
    p.add_argument("homework", metavar="hwN", help="the homework (assignments/hwN.toml)")
    p.add_argument(
        "submissions",
        type=Path,
        help="a folder of <student>/hwN.ipynb, nbgrader's submitted/ folder, or a Gradescope export zip",
    )
    p.add_argument("-j", "--jobs", type=int, default=None, help="submissions graded at once (default: CPU cores)")
    p.add_argument("-o", "--out", type=Path, default=None, help="results folder (default: build/grades/hwN)")
    p.add_argument("--force", action="store_true", help="regrade submissions that were already graded")
    p.add_argument("--db", default=None, help="course gradebook, any nbgrader db_url (default: sqlite gradebook.db)")
    p.add_argument(
        "--course-dir",
        type=Path,
        default=None,
        help="where graded notebooks go for nbgrader's formgrader (autograded/...; default: the gradebook's folder)",
    )
    add_limit_arguments(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")


def add_limit_arguments(p) -> None:
    p.add_argument(
        "--cell-timeout",
        type=int,
        default=None,
        help="seconds per cell (default: the spec's quick_seconds, at least 60)",
    )
    p.add_argument(
        "--notebook-timeout",
        type=int,
        default=None,
        help="seconds per notebook (default: twice quick_seconds, at least 120)",
    )
    p.add_argument("--memory-mb", type=int, default=None, help="memory per submission (default: 4096)")
    p.add_argument("--output-kb", type=int, default=None, help="output kept per cell, figures included (default: 1024)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="math-library threads per kernel (default: the cores shared among the submissions graded at once)",
    )
    p.add_argument(
        "--isolation",
        choices=["full", "user", "none"],
        default="full",
        help="full (default): no network, a private file system and processes, an unprivileged user; "
        "user: the unprivileged user only; none: no isolation (UNSAFE; every result says so)",
    )


def limits_from(args, spec: Spec) -> Limits:
    return Limits.for_homework(
        spec.quick_seconds,
        cell_seconds=args.cell_timeout,
        notebook_seconds=args.notebook_timeout,
        memory_mb=args.memory_mb,
        output_kb=args.output_kb,
        threads=args.threads,
    )


def command(args) -> int:

    [spec] = select([args.homework])
    out = args.out or BUILD / "grades" / spec.id
    summary = grade_batch(
        spec,
        args.submissions,
        out,
        jobs=args.jobs,
        force=args.force,
        db_url=args.db,
        limits=limits_from(args, spec),
        isolation=args.isolation,
        course_dir=args.course_dir,
        progress=not args.no_progress,
    )
    print(table(summary))
    if summary.changes:
        print("\nscores changed by this grading (autograded points, old -> new; manual scores are kept):")
        print("\n".join(f"  {c.describe()}" for c in sorted(summary.changes, key=lambda c: c.student)))
    for result in summary.results:
        if result.status == "error":
            print(f"\n{result.student}: grader error: {result.message}")
    return 1 if summary.errors else 0
