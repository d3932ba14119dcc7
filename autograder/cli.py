"""Command line: `python -m autograder COMMAND ...` (run `python -m autograder --help`).

Each command is one entry of COMMANDS: (handler, one-line help, function adding its arguments). Handlers
import their module lazily so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from autograder.course.spec import select
from autograder.student.cli import add_pdf_args, add_preflight_args, build_parser, run


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


def add_grades_args(p: argparse.ArgumentParser) -> None:
    from autograder.grading.final import add_arguments

    add_homeworks(p)
    add_arguments(p)


def cmd_grades(args) -> int:
    from autograder.grading.final import command

    return command(args)


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
    return build_parser(
        "python -m autograder", "Release, check, grade and export the course's homework notebooks.", COMMANDS
    )


def main(argv: list[str] | None = None) -> int:
    return run(COMMANDS, parser().parse_args(argv))
