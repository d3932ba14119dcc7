"""One grading result, and every way it is shown: the CSV row, Gradescope's results.json, the text summary
that the feedback page and Gradescope share. Written answers are "pending" until a TA grades them, never 0."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.course.spec import Spec
from autograder.errors import GradingError

GRADED, REJECTED, ERROR = "graded", "rejected", "error"
PENDING = "pending"


@dataclass
class CellScore:
    """One test cell's outcome."""

    grade_id: str
    problem: str
    score: float
    max_score: float
    hidden: bool  # the cell has hidden tests
    failed_in: str | None = None  # None (passed), "visible" or "hidden"
    message: str = ""  # what the student may see
    review: bool = False  # a rule the grader could not decide: a TA looks at it


@dataclass
class WrittenAnswer:
    """A written (manually graded) answer cell."""

    grade_id: str
    problem: str
    max_score: float
    answered: bool  # False: still the placeholder (nbgrader's "No response.")
    score: float | None = None  # a TA's score; None while pending


@dataclass
class Result:
    homework: str
    student: str
    students: list[str]
    status: str  # GRADED, REJECTED (nothing gradable: 0 with a message) or ERROR (the grader failed)
    message: str = ""
    max_score: float = 0.0
    tests: list[CellScore] = field(default_factory=list)
    written: list[WrittenAnswer] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # for the instructor: rules to review, reduced isolation
    notes: list[str] = field(default_factory=list)  # what the rebuild and the run changed or noticed
    cell_errors: list[str] = field(default_factory=list)  # errors raised by cells that are not tests
    limits: str = ""
    isolation: str = ""
    feedback: str = ""
    seconds: float = 0.0
    execute_seconds: float = 0.0
    digest: str = ""
    timestamp: str | None = None

    # -- derived ---------------------------------------------------------------------------------------------

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    def problems(self, spec: Spec) -> dict[str, tuple[float, float]]:
        """Problem id -> (autograded score, autograded maximum)."""
        return {p.id: (sum(t.score for t in self.tests if t.problem == p.id), p.autograded) for p in spec.problems}

    def written_points(self) -> tuple[float | None, float]:
        """(points a TA gave, or None while any answer is pending; the maximum)."""
        top = sum(w.max_score for w in self.written)
        pending = any(w.answered and w.score is None for w in self.written)
        given = sum(w.score or 0.0 for w in self.written if w.answered)
        return (None if pending else given), top

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        data = dict(data)
        data["tests"] = [CellScore(**t) for t in data.get("tests", [])]
        data["written"] = [WrittenAnswer(**w) for w in data.get("written", [])]
        return cls(**data)

    @classmethod
    def read(cls, path: Path) -> Result:
        """A record that `grade` wrote (OUT/results/<student>.json); GradingError names a damaged one."""
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise GradingError(
                f"{path} is not a grading record `grade` can read ({exc}): delete it and grade that submission "
                "again (`python -m autograder grade ... --force`)"
            ) from None

    # -- the text students see (feedback page and Gradescope) ------------------------------------------------

    def headline(self) -> str:
        if self.status == REJECTED:
            return f"Your submission could not be graded: {self.message}"
        if self.status == ERROR:
            return f"The autograder failed on its own (not because of your submission): {self.message}"
        return f"Autograded: {self.score:g} / {self.max_score:g} points"

    def summary_lines(self, spec: Spec) -> list[str]:
        lines = [self.headline()]
        if self.status == GRADED:
            for pid, (score, top) in self.problems(spec).items():
                if top:
                    lines.append(f"  {pid}: {score:g} / {top:g}")
        given, top = self.written_points()
        if top:
            unanswered = [w.grade_id for w in self.written if not w.answered]
            state = f"{given:g} / {top:g}" if given is not None else f"{PENDING} (a TA grades them; {top:g} points)"
            lines.append(f"Written answers: {state}" + (f"; unanswered: {', '.join(unanswered)}" if unanswered else ""))
        reviewed = [t.grade_id for t in self.tests if t.review]
        if reviewed:
            lines.append(f"A TA will review: {', '.join(reviewed)} (scored 0 until then)")
        return lines

    def sections(self) -> list[tuple[str, list[str]]]:
        """Titled lists shown below the summary (the same in the feedback page and on Gradescope)."""
        return [
            (title, items)
            for title, items in (
                ("Errors in your cells", self.cell_errors),
                ("Notes", self.notes),
                ("For the instructor", self.flags),
            )
            if items
        ]

    def settings_lines(self) -> list[str]:
        return [
            f"Limits: {self.limits}." if self.limits else "",
            f"Isolation: {self.isolation}." if self.isolation else "",
        ]

    def text(self, spec: Spec) -> str:
        lines = self.summary_lines(spec)
        for title, items in self.sections():
            lines += ["", f"{title}:", *(f"- {item}" for item in items)]
        settings = [s for s in self.settings_lines() if s]
        return "\n".join(lines + ([""] + settings if settings else []))

    # -- the CSV row ---------------------------------------------------------------------------------------

    def csv_rows(self, spec: Spec, feedback: str = "") -> list[dict]:
        given, top = self.written_points()
        problems = self.problems(spec)
        row = {
            "status": self.status,
            "autograded": f"{self.score:g}",
            "autograded_max": f"{self.max_score:g}",
            **{p: f"{s:g}" for p, (s, _) in problems.items()},
            "written": PENDING if given is None else f"{given:g}",
            "written_max": f"{top:g}",
            "review": " | ".join(t.grade_id for t in self.tests if t.review),
            "flags": " | ".join(self.flags),
            "message": self.message,
            "notes": " | ".join(self.notes),
            "seconds": f"{self.seconds:.1f}",
            "feedback": feedback,
        }
        return [{"student": s, **row} for s in (self.students or [self.student])]

    @staticmethod
    def csv_columns(spec: Spec) -> list[str]:
        return [
            "student",
            "status",
            "autograded",
            "autograded_max",
            *(p.id for p in spec.problems),
            "written",
            "written_max",
            "review",
            "flags",
            "message",
            "notes",
            "seconds",
            "feedback",
        ]

    # -- Gradescope's results.json -----------------------------------------------------------------------------

    def results_json(self, spec: Spec, seconds: float) -> dict:
        """Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/)."""
        tests = []
        if self.status != GRADED:
            tests.append(
                {
                    "name": "Your submission",
                    "score": 0.0,
                    "max_score": spec.autograded_total,
                    "status": "failed",
                    "output": self.message or "the submission could not be graded",
                    "visibility": "visible",
                }
            )
        for number, t in enumerate(self.tests, start=1):
            passed = t.score >= t.max_score
            common = {"number": str(number), "tags": [t.problem] if t.problem else []}
            output = "passed" if passed else (t.message or "failed")
            if t.hidden:  # the visible checks' outcome now; the score and the message once published
                visible_ok = t.failed_in != "visible"
                tests.append(
                    {
                        **common,
                        "name": f"{t.grade_id}: visible checks",
                        "score": 0.0,
                        "max_score": 0.0,
                        "status": "passed" if visible_ok else "failed",
                        "visibility": "visible",
                        "output": "passed" if visible_ok else t.message,
                    }
                )
                visibility = "after_published"
            else:
                visibility = "visible"
            tests.append(
                {
                    **common,
                    "name": t.grade_id,
                    "score": t.score,
                    "max_score": t.max_score,
                    "status": "passed" if passed else "failed",
                    "visibility": visibility,
                    "output": output,
                }
            )
        return {
            "score": self.score,
            "execution_time": round(seconds, 1),
            "output": self.text(spec),
            "output_format": "text",
            "test_output_format": "text",
            "stdout_visibility": "hidden",
            "tests": tests,
            "extra_data": {
                "homework": spec.id,
                "student": self.student,
                "status": self.status,
                "flags": self.flags,
                "review": [t.grade_id for t in self.tests if t.review],
            },
        }


def read_results(out: Path, homework: str) -> list[Result]:
    """Every record of `homework` in OUT/results, by file name; a damaged one is an error, never skipped."""
    records = (Result.read(path) for path in sorted((out / "results").glob("*.json")))
    return [r for r in records if r.homework == homework]
