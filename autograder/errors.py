"""Every error the course tools raise on purpose. Each message names the file or the thing at fault and the fix;
the commands print it and exit non-zero (`cli.py`). What runs outside the package (grading/runtime/) keeps its
own few exceptions, as it imports nothing from here."""

from __future__ import annotations


class CourseError(RuntimeError):
    """An error with a message meant for the person at the keyboard (file, cause, fix)."""


# -- course data --------------------------------------------------------------------------------------------------


class SpecError(CourseError, ValueError):
    """A spec is missing or malformed; the message names the file and the field."""


class NbgraderError(CourseError):
    """nbgrader exited non-zero; the message holds the command and its log."""


class UnknownHomework(CourseError):
    """A notebook matches no homework of the course."""


# -- authoring ----------------------------------------------------------------------------------------------------


class DataError(CourseError):
    """A data file is missing, corrupt or could not be fetched; the message says which and what to do."""


class CorpusError(CourseError):
    """A fairness corpus module is missing or wrong; the message names the file and the fix."""


class ExecutionError(CourseError):
    """A cell raised, or a test failed, while executing a notebook that must run clean (names the cell)."""


class KitError(CourseError):
    """The student kit cannot be built as it must be; the message says why."""


# -- the PDF ------------------------------------------------------------------------------------------------------


class ExportError(CourseError):
    """The notebook cannot be exported; the message names the cell and the fix."""


class LatexError(ExportError):
    """xelatex could not build the PDF; the message names the cell, the construct and the fix. `error` is the
    parsed TeX error (pdf.latex.TexError) and `cell` the prepared notebook's cell it was traced to (None when
    the log did not say)."""

    def __init__(self, message: str, error=None, cell: int | None = None) -> None:
        super().__init__(message)
        self.error = error
        self.cell = cell


# -- grading ------------------------------------------------------------------------------------------------------


class GradingError(CourseError):
    """The grader itself cannot work (not the student's fault); the message names the cause and the fix."""


class SubmissionsError(CourseError):
    """SUBMISSIONS is not something we can read; the message names the path and the layouts we accept."""


class KernelStartError(GradingError):
    """The kernel could not be started (the grader's problem: no student code has run)."""


class RunnerError(GradingError):
    """The trusted runner died or broke its protocol (the grader's problem, or a killed runner)."""


class RunnerTimeout(RunnerError):
    """The runner did not finish a cell in time (it was killed)."""


class KernelError(RuntimeError):
    """The kernel could not serve a request (its server is gone, it died, or it answered nonsense): the
    student's doing as often as not, so it fails the test at hand, not the grading."""


class RosterError(CourseError):
    """The roster cannot be read; the message names the file, the line and the fix."""


class GradescopeScoresError(CourseError):
    """A Gradescope score export cannot be imported as it is; the message names the file, the column and the fix."""


class GradescopeError(CourseError):
    """The Gradescope bundle could not be built or run; the message names the file and the fix."""
