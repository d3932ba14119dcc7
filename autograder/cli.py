"""Command line: `python -m autograder COMMAND ...` (run `python -m autograder --help`).

Each command is one entry of COMMANDS: (handler, one-line help, function adding its arguments). Handlers
import their module lazily so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from autograder.course.spec import SpecError, select
from autograder.student.cli import add_pdf_args, add_preflight_args


def add_homeworks(p: argparse.ArgumentParser) -> None:
    p.add_argument("homeworks", nargs="*", metavar="hwN", help="homework ids (default: every assignments/*.toml)")


def add_solutions_args(p: argparse.ArgumentParser) -> None:
    add_homeworks(p)
    p.add_argument("--quick", action="store_true", help="training cells take their short path (COURSE_QUICK=1)")


def no_args(p: argparse.ArgumentParser) -> None:
    """The command takes no arguments."""


def cmd_data(args) -> int:
    from autograder.authoring import data

    data.fetch()
    return 0


def cmd_release(args) -> int:
    from autograder.authoring.release import generate

    for spec in select(args.homeworks):
        changed = generate(spec)
        print(f"release/{spec.id}: " + (f"regenerated ({len(changed)} file(s) changed)" if changed else "up to date"))
    return 0


def cmd_check(args) -> int:
    from autograder.authoring import fairness
    from autograder.authoring.check import check_homework, table

    results = [check_homework(spec) for spec in select(args.homeworks)]
    for r in results:
        if r.corpus:
            print(f"\n{r.homework} fairness corpus (correct answers with full marks, wrong answers caught):")
            print("\n".join(f"  {line}" for line in fairness.summary(r.corpus)))
    print()
    print(table(results))
    for r in results:
        for failure in r.failures:
            print(f"\n{r.homework}: FAILED: {failure}", file=sys.stderr)
    return 0 if all(r.ok for r in results) else 1


def cmd_solutions(args) -> int:
    from autograder.authoring.solutions import build

    for spec in select(args.homeworks):
        build(spec, quick=args.quick)
    return 0


def cmd_readme(args) -> int:
    from autograder.authoring.readme import update

    print("README.md: " + ("assignment table updated" if update() else "assignment table up to date"))
    return 0


def cmd_preflight(args) -> int:
    from autograder.student.preflight import command

    return command(args.notebook, args.homework, run=not args.no_run, program="python -m autograder")


def cmd_pdf(args) -> int:
    from autograder.pdf.export import command

    return command(args.notebook, args.output, args.html, args.homework)


def add_fairness_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("homework", metavar="hwN", help="the homework whose corpus (tests/fairness/hwN.py) to grade")
    p.add_argument("--cell", action="append", default=[], help="only the variants of this answer cell (repeatable)")
    p.add_argument("--label", default="", help="only variants whose label contains this text")


def cmd_fairness(args) -> int:
    from autograder.authoring import fairness

    [spec] = select([args.homework])
    variants = fairness.select(fairness.load(spec), args.cell, args.label)
    if not variants:
        print(f"{spec.id}: no variants (tests/fairness/{spec.id}.py)")
        return 1
    outcomes = fairness.grade_alone(spec, variants, log=lambda line: print(f"[{spec.id}] {line}"))
    print()
    print("\n".join(fairness.summary(outcomes)))
    return 0 if all(o.ok for o in outcomes) else 1


def add_grade_args(p: argparse.ArgumentParser) -> None:
    from autograder.grading.batch import add_arguments

    add_arguments(p)


def cmd_grade(args) -> int:
    from autograder.grading.batch import command

    return command(args)


def _homework_file(text: str) -> tuple[str, Path]:
    homework, sep, path = text.partition("=")
    if not sep or not homework or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: write hwN=FILE")
    return homework, Path(path)


def _clock(text: str):
    import datetime as dt

    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write HH:MM") from None


def add_grades_args(p: argparse.ArgumentParser) -> None:
    from autograder.course.paths import BUILD, ROOT
    from autograder.grading.late import LatePolicy

    policy = LatePolicy()
    add_homeworks(p)
    p.add_argument(
        "--roster", type=Path, default=ROOT / "roster.csv", help="the roster: id,name,email (default: %(default)s)"
    )
    p.add_argument(
        "--db", default=None, help="the course gradebook, any nbgrader db_url (default: sqlite gradebook.db)"
    )
    p.add_argument(
        "--results",
        type=Path,
        default=BUILD / "grades",
        help="where `grade` wrote each homework's results (RESULTS/hwN, default: %(default)s)",
    )
    p.add_argument(
        "-o", "--out", type=Path, default=BUILD / "grades" / "final", help="where to write (default: %(default)s)"
    )
    p.add_argument(
        "--gradescope-scores",
        type=_homework_file,
        action="append",
        default=[],
        metavar="hwN=FILE",
        help="import Gradescope's grades export (Download Grades > CSV) of hwN's written parts first (repeatable)",
    )
    p.add_argument(
        "--overwrite-manual",
        action="store_true",
        help="let imported Gradescope scores replace scores a TA entered in the formgrader",
    )
    late = p.add_argument_group("late policy")
    late.add_argument(
        "--late-per-day",
        type=float,
        default=policy.per_day,
        help="percent of a homework's points per late day (default: %(default)s)",
    )
    late.add_argument(
        "--grace-minutes",
        type=float,
        default=policy.grace_minutes,
        help="minutes after the deadline still on time (default: %(default)s)",
    )
    late.add_argument(
        "--late-limit",
        type=int,
        default=policy.max_days,
        help="more late days than this earn nothing; -1: no limit (default: %(default)s)",
    )
    late.add_argument(
        "--free-late-days",
        type=int,
        default=policy.free_days,
        help="late days without penalty per student, for the course (default: %(default)s)",
    )
    late.add_argument(
        "--due-time", type=_clock, default=policy.due_time, help="the time of day of a due date (default: 23:59)"
    )
    late.add_argument(
        "--timezone",
        default=policy.timezone,
        help="the due dates' time zone, e.g. America/New_York (default: %(default)s)",
    )


def cmd_grades(args) -> int:
    from autograder.grading import final, gradebook
    from autograder.grading.late import LatePolicy

    specs = select(args.homeworks)
    known = {s.id for s in specs}
    unknown = [hw for hw, _ in args.gradescope_scores if hw not in known]
    if unknown:
        raise RuntimeError(
            f"--gradescope-scores names {', '.join(unknown)}, which is not among the homeworks graded here"
        )
    policy = LatePolicy(
        per_day=args.late_per_day,
        grace_minutes=args.grace_minutes,
        max_days=None if args.late_limit is not None and args.late_limit < 0 else args.late_limit,
        free_days=args.free_late_days,
        due_time=args.due_time,
        timezone=args.timezone,
    )
    outcome = final.run(
        specs,
        args.roster,
        args.results,
        args.out,
        args.db or gradebook.DEFAULT_DB_URL,
        policy,
        gradescope=dict(args.gradescope_scores),
        overwrite=args.overwrite_manual,
    )
    print("\n".join(outcome.lines))
    return 0


def add_gradescope_args(p: argparse.ArgumentParser) -> None:
    from autograder.gradescope.bundle import add_arguments

    add_arguments(p)


def cmd_gradescope(args) -> int:
    from autograder.gradescope.bundle import command

    return command(args)


COMMANDS = {
    "data": (cmd_data, "fetch MNIST into the data root ($COURSE_DATA or data/), verified by sha256", no_args),
    "release": (cmd_release, "regenerate release/ from source/ with nbgrader", add_homeworks),
    "check": (
        cmd_check,
        "grade each answer key, blank release and fairness corpus through the grading engine; leaks, points",
        add_homeworks,
    ),
    "solutions": (
        cmd_solutions,
        "execute each answer key; export build/solutions/hwN.ipynb, hwN.pdf and the public public/hwN.pdf",
        add_solutions_args,
    ),
    "readme": (cmd_readme, "regenerate README.md's assignment table from assignments/*.toml", no_args),
    "preflight": (
        cmd_preflight,
        "before you upload: unanswered cells, run order, errors and the visible tests of your notebook",
        add_preflight_args,
    ),
    "pdf": (
        cmd_pdf,
        "export a notebook as the Gradescope PDF (one problem per page) and OUT.pages.json; --html for HTML",
        add_pdf_args,
    ),
    "fairness": (
        cmd_fairness,
        "grade a homework's fairness corpus (tests/fairness/hwN.py): correct answers keep every point, wrong lose",
        add_fairness_args,
    ),
    "grade": (
        cmd_grade,
        "grade a class's submissions in parallel, sandboxed; OUT/grades.csv, feedback, course gradebook",
        add_grade_args,
    ),
    "grades": (
        cmd_grades,
        "final grades per homework and for the course (roster, formgrader and Gradescope scores, late policy); "
        "CSV files and a Canvas import",
        add_grades_args,
    ),
    "gradescope": (
        cmd_gradescope,
        "build the Gradescope autograder zip (setup.sh, run_autograder) for each homework: build/gradescope/",
        add_gradescope_args,
    ),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Release, check, grade and export the course's homework notebooks.",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text, add_arguments) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler = COMMANDS[args.command][0]
    try:
        return handler(args)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # our own errors carry the file and the fix in their message
        print(f"error: {exc}", file=sys.stderr)
        return 1
