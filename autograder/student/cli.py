"""`dlhw`: the students' command (the student kit's console script), with two subcommands.

    dlhw preflight NOTEBOOK   what would still cost points (exit 1 if anything)
    dlhw pdf NOTEBOOK         the Gradescope PDF (or --html) and the pages to tag

The same code as `python -m autograder preflight|pdf` in the repository; the kit ships the release notebooks
and specs inside the package, so the homework is recognised from the notebook's cells anywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.errors import SpecError

PROGRAM = "dlhw"


def add_preflight_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("notebook", type=Path, help="your homework notebook (.ipynb)")
    p.add_argument("--homework", metavar="hwN", help="which homework it is (default: recognised from its cells)")
    p.add_argument("--no-run", action="store_true", help="skip the fresh run of the visible tests (static checks)")


def add_pdf_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("notebook", type=Path, help="the notebook to export, run top to bottom and saved")
    p.add_argument("-o", "--output", type=Path, help="where to write (default: beside the notebook)")
    p.add_argument("--html", action="store_true", help="standalone HTML instead of PDF (needs no LaTeX)")
    p.add_argument("--homework", metavar="hwN", help="which homework it is (default: recognised from its cells)")


def cmd_preflight(args) -> int:
    from autograder.student.preflight import command

    return command(args.notebook, args.homework, run=not args.no_run, program=PROGRAM)


def cmd_pdf(args) -> int:
    from autograder.pdf.export import command

    return command(args.notebook, args.output, args.html, args.homework)


COMMANDS = {
    "preflight": (
        cmd_preflight,
        "before you upload: unanswered cells, run order, formulas the PDF cannot typeset, the visible tests",
        add_preflight_args,
    ),
    "pdf": (
        cmd_pdf,
        "export the notebook as the Gradescope PDF (one problem per page) and say which pages to tag; --html: HTML",
        add_pdf_args,
    ),
}


def build_parser(program: str, description: str, commands: dict) -> argparse.ArgumentParser:
    """One subcommand per entry of `commands` (name -> (handler, one-line help, function adding arguments))."""
    top = argparse.ArgumentParser(prog=program, description=description)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text, add_arguments) in commands.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return top


def run(commands: dict, args) -> int:
    """Run the chosen command; our own errors are printed (they name the file and the fix), not raised."""
    try:
        return commands[args.command][0](args)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # CourseError and the errors of the libraries we drive, message first
        print(f"error: {exc}", file=sys.stderr)
        return 1


def parser() -> argparse.ArgumentParser:
    return build_parser(PROGRAM, "Check and export your deep-learning homework notebook.", COMMANDS)


def main(argv: list[str] | None = None) -> int:
    return run(COMMANDS, parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
