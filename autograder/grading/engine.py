"""Grading one submission: read it, rebuild it from the release, run it (the student's kernel in the sandbox,
the tests on the trusted side), score it, write the feedback and the notebook a TA opens.

`prepare` runs once per batch (or once when a Gradescope image is built): nbgrader generates the assignment in
a template course, whose gradebook holds every cell of the homework. A worker process keeps one `Grader` (the
zygote of its trusted runners, the sandbox probe, its kernel uid) for all its submissions; `Grader.grade`
never raises for anything a student did: every outcome is a `Result`.

The same engine serves `check` (the key and the blank release, `isolation="none"`: the instructor's own code),
`grade` and the Gradescope bundle (`isolation="full"` by default, refused where the machine cannot provide it).
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.course import cells as nbu
from autograder.course.config import ScratchCourse
from autograder.course.paths import INLINE_BACKEND, NBGRADER_CONFIG, data_root, tool_env
from autograder.course.policy import Limits, placeholder
from autograder.course.spec import Spec, all_specs, load
from autograder.errors import GradingError
from autograder.grading import feedback, integrity, roles, submissions
from autograder.grading.execute import Execution, NotebookRun
from autograder.grading.results import ERROR, GRADED, REJECTED, CellScore, Result, WrittenAnswer
from autograder.grading.runtime import sandbox
from autograder.grading.session import KernelStartError
from autograder.grading.trusted import RunnerError, Zygote

ISOLATIONS = ("full", "user", "none")


# -- the per-batch set-up ----------------------------------------------------------------------------------------


@dataclass
class Setup:
    """What every worker needs, as plain values (sent to worker processes, stored in Gradescope's image)."""

    spec_path: str
    template: str  # an nbgrader course: gradebook.db with the assignment, source/<id>, release/<id>
    scratch: str  # this batch's private folder (kernel folders, policies)
    limits: Limits
    isolation: str = "full"
    feedback_dir: str | None = None  # OUT/feedback; None: no feedback files
    autograded_dir: str | None = None  # a course folder: autograded/<student>/<hw>/<notebook> for the formgrader
    others: dict[str, str] = field(default_factory=dict)  # other homeworks' release notebooks (identify)
    course_id: str = "course"
    data: str = ""

    def to_dict(self) -> dict:
        return {**asdict(self), "limits": asdict(self.limits)}

    @classmethod
    def from_dict(cls, data: dict) -> Setup:
        return cls(**{**data, "limits": Limits(**data["limits"])})


def course_id() -> str:
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(NBGRADER_CONFIG.name, path=str(NBGRADER_CONFIG.parent)).load_config()
    return str(config.CourseDirectory.get("course_id", "course"))


def prepare(
    spec: Spec,
    scratch: Path,
    limits: Limits,
    *,
    isolation: str = "full",
    feedback_dir: Path | None = None,
    autograded_dir: Path | None = None,
) -> Setup:
    """Generate the assignment once (nbgrader, in a template course) for a batch of submissions."""
    if isolation not in ISOLATIONS:
        raise GradingError(f"isolation {isolation!r}: choose one of {', '.join(ISOLATIONS)}")
    scratch.mkdir(parents=True, exist_ok=True)
    os.chmod(scratch, 0o711)  # kernels reach their own slot folder; nothing here is listable
    for name, mode in (("courses", 0o700), ("policies", 0o700), ("slots", 0o711)):
        (scratch / name).mkdir(exist_ok=True)
        os.chmod(scratch / name, mode)
    course = ScratchCourse(spec, parent=scratch / "courses")
    course.generate()
    _matplotlib_cache(scratch / "matplotlib")
    others = {s.id: str(s.release_notebook) for s in all_specs() if s.id != spec.id and s.release_notebook.exists()}
    return Setup(
        spec_path=str(spec.path),
        template=str(course.root),
        scratch=str(scratch),
        limits=limits,
        isolation=isolation,
        feedback_dir=str(feedback_dir) if feedback_dir else None,
        autograded_dir=str(autograded_dir) if autograded_dir else None,
        others=others,
        course_id=course_id(),
        data=str(data_root()),
    )


def _matplotlib_cache(folder: Path) -> None:
    """Build matplotlib's font list once: every kernel starts with a copy instead of rebuilding it (seconds)."""
    import subprocess

    folder.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"],
        env=tool_env(MPLCONFIGDIR=str(folder)),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise GradingError(f"could not build matplotlib's font cache in {folder}:\n{proc.stderr[-2000:]}")


def with_hidden_tests(nb, source_nb) -> None:
    """Put the instructor's full test cells (hidden tests included) into a notebook rebuilt from the release."""
    full = {nbu.grade_id(c): c.source for c in source_nb.cells if nbu.is_autograded_test(c)}
    for cell in nb.cells:
        if nbu.is_autograded_test(cell) and nbu.grade_id(cell) in full:
            cell.source = full[nbu.grade_id(cell)]


def exposed(setup: Setup) -> list[str]:
    """What a sandboxed kernel may read besides the system: the Python installation and the data."""
    return sorted({os.path.realpath(sys.executable), sys.base_prefix, sys.prefix, setup.data or str(data_root())})


def check_isolation(setup: Setup, slot_dir: Path | None = None):
    """Claim a kernel uid and prove the machine isolates as `setup.isolation` asks; raise GradingError with the
    fix when it cannot. Returns (uid, lock): the uid stays claimed until the lock is closed."""
    if os.geteuid() != 0:
        raise GradingError(
            f"grading with isolation '{setup.isolation}' needs root (kernels run as an unprivileged user): run the "
            "grader as root, e.g. in a container (docker run --privileged ...), or pass --isolation none to grade "
            "without any isolation (every result then says so)"
        )
    uid, lock = sandbox.claim_uid()
    probe = (slot_dir or Path(setup.scratch) / "slots" / "probe") / "probe"
    caps = sandbox.probe(str(probe), exposed(setup), uid)
    shutil.rmtree(probe, ignore_errors=True)
    if caps.supports(setup.isolation):
        return uid, lock
    lock.close()
    raise GradingError(
        f"this machine cannot isolate submissions as '{setup.isolation}' asks: {caps.why_not(setup.isolation)}. "
        "Fix: grade as root in a container that allows namespaces (docker run --privileged, or --cap-add "
        "SYS_ADMIN with seccomp unconfined), or pass --isolation user (an unprivileged user only) or --isolation "
        "none (no isolation); every result then says so"
    )


def strongest_isolation(setup: Setup) -> str:
    """The isolation real grading would use on this machine ("full" when it can), for `check` and the corpus:
    they prove the key earns its points under the same conditions as a student's notebook."""
    try:
        _, lock = check_isolation(Setup(**{**setup.__dict__, "isolation": "full"}))
    except GradingError:
        return "none"
    lock.close()
    return "full"


# -- one worker -----------------------------------------------------------------------------------------------------


class Grader:
    """Grades submissions one after another in this process; `slot` picks the kernel's user and folders.
    It starts its own zygote (a fresh process that forks the trusted runners)."""

    def __init__(self, setup: Setup, slot: int = 0, log=None, zygote: Zygote | None = None) -> None:
        self.zygote = zygote or Zygote()
        self.setup = setup
        self.spec = load(Path(setup.spec_path))
        self.slot = slot
        self.log = log or (lambda *_: None)
        self.template = Path(setup.template)
        self.release_nb = nbu.read(self.template / "release" / self.spec.id / self.spec.notebook)
        self.source_nb = nbu.read(self.template / "source" / self.spec.id / self.spec.notebook)
        self.others = {k: nbu.read(Path(v)) for k, v in setup.others.items()}
        self.answers = roles.answer_names(self.source_nb)
        self.scrub = feedback.hidden_lines(self.source_nb)
        self.expose = exposed(setup)
        os.environ.update(tool_env())  # kernels find their python, nbgrader finds alembic, notebooks find data
        self.uid, self.uid_lock = check_isolation(setup, self.slot_dir()) if setup.isolation != "none" else (None, None)

    def close(self) -> None:
        self.zygote.close()
        if self.uid_lock is not None:
            self.uid_lock.close()

    # -- folders ----------------------------------------------------------------------------------------------

    def slot_dir(self) -> Path:
        return Path(self.setup.scratch) / "slots" / f"slot-{self.slot}"

    def _fresh_slot(self) -> tuple[Path, Path]:
        slot = self.slot_dir()
        if self.uid is not None:
            sandbox.kill_user(self.uid)  # anything a previous submission left running (isolation "user")
        shutil.rmtree(slot, ignore_errors=True)
        work, sock = slot / "work", slot / "sock"
        for d in (slot, work, sock):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o700)
        shutil.copytree(Path(self.setup.scratch) / "matplotlib", work / ".matplotlib", dirs_exist_ok=True)
        release_dir = self.template / "release" / self.spec.id
        for f in release_dir.rglob("*"):  # supporting files the students were given, never notebooks
            if f.is_file() and f.suffix != ".ipynb":
                target = work / f.relative_to(release_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, target)
        if self.uid is not None:
            for d in [slot, *slot.rglob("*")]:
                os.lchown(d, self.uid, self.uid)
        return work, sock

    def _policy(self, work: Path, sock: Path) -> Path | None:
        if self.setup.isolation == "none":
            return None
        policy = sandbox.Policy(
            limits=asdict(self.setup.limits),
            workdir=str(work),
            uid=self.uid,
            isolation=self.setup.isolation,
            expose=self.expose,
            writable=[str(sock)],
            env={"NBGRADER_EXECUTION": "autograde"},
        )
        path = Path(self.setup.scratch) / "policies" / f"slot-{self.slot}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(policy.to_json())
        return path

    # -- grading ------------------------------------------------------------------------------------------------

    def grade(self, sub: submissions.Submission) -> Result:
        """Grade one submission; never raises for anything the student did."""
        start = time.monotonic()
        result = Result(
            self.spec.id,
            sub.student,
            sub.students,
            GRADED,
            max_score=self.spec.autograded_total,
            timestamp=sub.timestamp,
            limits=self.setup.limits.describe(),
            isolation=sandbox.describe(self.setup.isolation),
        )
        if self.setup.isolation != "full":
            result.flags.append(f"isolation: {sandbox.describe(self.setup.isolation)}")
        result.digest = submissions.digest(sub)
        try:
            nb = self._read(sub)
            if isinstance(nb, submissions.Rejection):
                result.status, result.message = REJECTED, nb.message
                self._write_feedback(result, None)
            else:
                self._grade_notebook(sub, nb, result, start)
        except (GradingError, KernelStartError, RunnerError, OSError) as exc:
            result.status, result.message = ERROR, f"{type(exc).__name__}: {exc}"[:4000]
        result.seconds = time.monotonic() - start
        return result

    def _read(self, sub: submissions.Submission):
        path = submissions.pick_notebook(sub, self.spec.notebook)
        if isinstance(path, submissions.Rejection):
            return path
        nb = submissions.read_notebook(path, self.setup.limits)
        if isinstance(nb, submissions.Rejection):
            return nb
        wrong = integrity.identify(nb, self.release_nb, self.others)
        return submissions.Rejection(f"{path.name}: {wrong}") if wrong else nb

    def rebuild(self, student_nb) -> integrity.Rebuilt:
        rebuilt = integrity.rebuild(self.release_nb, student_nb)
        with_hidden_tests(rebuilt.nb, self.source_nb)
        return rebuilt

    @contextlib.contextmanager
    def session(self, nb, *, quick: bool = True, log=None, started: float | None = None):
        """A `NotebookRun` of `nb` in this slot's fresh folders (kernel in the sandbox, tests on the trusted
        side); everything the kernel left is removed afterwards. `quick=False` runs training in full (keys)."""
        work, sock = self._fresh_slot()
        extra = {"NBGRADER_EXECUTION": "autograde"} if quick else {}
        env = tool_env(COURSE_DATA=self.setup.data, MPLBACKEND=INLINE_BACKEND, **extra)
        if not quick:
            env.pop("NBGRADER_EXECUTION", None)
            env.pop("COURSE_QUICK", None)
        try:
            with NotebookRun(
                nb,
                self.answers,
                self.setup.limits,
                self.zygote,
                workdir=work,
                socket_dir=sock,
                policy_path=self._policy(work, sock),
                env=env,
                log=log,
                started=started,
            ) as run:
                yield run
        finally:
            if self.uid is not None:
                sandbox.kill_user(self.uid)
            shutil.rmtree(self.slot_dir(), ignore_errors=True)

    def run(self, nb, log=None, started: float | None = None) -> Execution:
        """Run a rebuilt notebook on the grading path (its time limit counting from `started`)."""
        with self.session(nb, log=log, started=started) as run:
            run.run_all()
        return run.execution

    def _grade_notebook(self, sub, student_nb, result: Result, started: float) -> None:
        rebuilt = self.rebuild(student_nb)
        result.notes += rebuilt.notes
        execution = self.run(rebuilt.nb, started=started)
        result.execute_seconds = execution.seconds
        result.notes += execution.events
        result.cell_errors = execution.cell_errors
        self.score(rebuilt.nb, execution, result)
        self._write_autograded(result.student, execution.nb)
        self._write_feedback(result, execution.nb)

    def score(self, nb, execution: Execution, result: Result) -> None:
        """Test cells from the execution; written answers from the notebook (answered or not)."""
        released = {nbu.grade_id(c): c.source for c in self.release_nb.cells if nbu.grade_id(c)}
        for cell in nb.cells:
            gid = nbu.grade_id(cell)
            problem = self.spec.problem_of(gid or "")
            if nbu.is_autograded_test(cell):
                test = execution.tests.get(gid)
                passed = test is not None and test.passed
                result.tests.append(
                    CellScore(
                        grade_id=gid,
                        problem=problem.id if problem else "",
                        score=nbu.points(cell) if passed else 0.0,
                        max_score=nbu.points(cell),
                        hidden=nbu.HIDDEN_BEGIN in cell.source,
                        failed_in=None if passed else (test.where if test else "visible"),
                        message="" if passed else (test.message if test else "the test did not run"),
                        review=bool(test and test.review),
                    )
                )
                if test and test.review:
                    result.flags.append(f"{gid}: a rule could not be decided ({test.evalue[:300]}); please review")
            elif nbu.is_manual(cell) and nbu.points(cell) > 0:
                answered = placeholder(cell, released.get(gid)) is None
                result.written.append(WrittenAnswer(gid, problem.id if problem else "", nbu.points(cell), answered))

    # -- what the student and the TA get -------------------------------------------------------------------

    def _write_autograded(self, student: str, nb) -> None:
        if not self.setup.autograded_dir:
            return
        target = Path(self.setup.autograded_dir) / "autograded" / student / self.spec.id / self.spec.notebook
        target.parent.mkdir(parents=True, exist_ok=True)
        import nbformat

        nbformat.write(copy.deepcopy(nb), str(target))

    def _write_feedback(self, result: Result, nb) -> None:
        if not self.setup.feedback_dir:
            return
        target = Path(self.setup.feedback_dir) / result.student / f"{self.spec.id}.html"
        result.feedback = str(feedback.write(result, self.spec, target, nb, scrub=self.scrub))
