"""Grading one submission: real nbgrader, in-process, in its own scratch course, with a sandboxed kernel.

`prepare` runs once per batch (or once when a Gradescope image is built): nbgrader generates the assignment
in a template course, whose gradebook already holds every cell of the homework. `Grader.grade` then, for one
submission:
1. reads the notebook (a bad file becomes a clear rejection, never an exception),
2. rebuilds it from the release notebook and the student's answers (`integrity.rebuild`),
3. runs nbgrader's `Autograde` converter in this process (no CLI start-up) on a copy of the template course,
   with `kernel.GradingExecute` in place of nbgrader's `Execute`,
4. runs nbgrader's `GenerateFeedback` converter with hidden tests cleared and outputs redacted,
5. returns a `Result` (scores per test cell and problem, notes, flags) that the caller merges and reports.

A worker process keeps one `Grader` (imports, the sandbox probe, the kernel user) for all its submissions.
"""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbconvert.writers import FilesWriter
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)
from sqlalchemy.exc import SAWarning
from traitlets import List, Type
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.course import cells as nbu
from autograder.course.paths import NBGRADER_CONFIG, data_root, tool_env
from autograder.course.policy import Limits
from autograder.course.spec import Spec, all_specs, load
from autograder.grading import integrity, submissions
from autograder.grading.runtime import sandbox

NBGRADER_LOG_LINES = 40
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PROTECTED_IMPORTS = ("numpy", "numpy.testing", "torch", "torch.testing")


class GradingError(RuntimeError):
    """The grader itself failed on a submission (not the student's fault); the message has nbgrader's log."""


# -- results ----------------------------------------------------------------------------------------------------


@dataclass
class CellScore:
    """One test cell's outcome."""

    grade_id: str
    problem: str
    score: float
    max_score: float
    hidden: bool  # the cell has hidden tests
    failed_in: str | None  # None (passed), "visible" or "hidden": where the first failing line is
    message: str  # what the student may see: error name and message, redacted


@dataclass
class Result:
    homework: str
    student: str
    students: list[str]
    status: str  # "graded", "rejected" (nothing gradable: score 0 with a message), "error" (grader failed)
    message: str = ""
    score: float = 0.0
    max_score: float = 0.0
    problems: dict[str, list[float]] = field(default_factory=dict)  # problem id -> [score, autograded max]
    tests: list[CellScore] = field(default_factory=list)
    manual: dict[str, float] = field(default_factory=dict)  # written answers: grade_id -> points (TA grades)
    flags: list[str] = field(default_factory=list)  # integrity findings, for the instructor
    notes: list[str] = field(default_factory=list)  # what the rebuild and the execution changed or noticed
    cell_errors: list[str] = field(default_factory=list)  # errors raised by cells that are not tests
    limits: str = ""
    sandbox: str = ""
    feedback: str = ""
    seconds: float = 0.0
    execute_seconds: float = 0.0
    digest: str = ""
    timestamp: str | None = None
    grades: dict[str, dict] = field(default_factory=dict)  # gradebook rows to merge: grade_id -> fields
    comments: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        data = dict(data)
        data["tests"] = [CellScore(**t) for t in data.get("tests", [])]
        return cls(**data)


# -- the per-batch template -------------------------------------------------------------------------------------


@dataclass
class Setup:
    """What every worker needs, as plain paths and values (sent to worker processes)."""

    spec_path: str
    template: str  # an nbgrader course: gradebook.db with the assignment, source/<id>, release/<id>
    scratch: str  # this batch's private folder (course copies, kernel folders, policies)
    limits: Limits
    feedback_dir: str | None = None  # OUT/feedback; None: no feedback files
    hide: list[str] = field(default_factory=list)  # more paths student code must not see (out, inputs, db)
    others: dict[str, str] = field(default_factory=dict)  # other homeworks' release notebooks (identify)
    guard: bool = True  # False only in tests that show what the guard prevents
    course_id: str = "course"


def prepare(
    spec: Spec,
    scratch: Path,
    limits: Limits,
    *,
    feedback_dir: Path | None = None,
    hide: list[Path] = (),
    guard: bool = True,
) -> Setup:
    """Generate the assignment once (nbgrader CLI, in a template course) for a batch of submissions."""
    from autograder.course.config import ScratchCourse

    for private in sandbox.PRIVATE_TMP:
        if scratch.resolve().is_relative_to(private):
            raise GradingError(
                f"{scratch}: the grading folder cannot be under {private}, which every kernel gets "
                f"a private, empty copy of; use a folder such as build/grading"
            )
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
        feedback_dir=str(feedback_dir) if feedback_dir else None,
        hide=[str(p) for p in hide],
        others=others,
        guard=guard,
        course_id=course_id(),
    )


def _matplotlib_cache(folder: Path) -> None:
    """Build matplotlib's font list once: every kernel starts with a copy instead of rebuilding it (seconds)."""
    import subprocess

    folder.mkdir(exist_ok=True)
    env = tool_env(MPLCONFIGDIR=str(folder))
    proc = subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise GradingError(f"could not build matplotlib's font cache in {folder}:\n{proc.stderr[-2000:]}")


def course_id() -> str:
    config = PyFileConfigLoader(NBGRADER_CONFIG.name, path=str(NBGRADER_CONFIG.parent)).load_config()
    return str(config.CourseDirectory.get("course_id", "course"))


# -- one worker ---------------------------------------------------------------------------------------------------


class Grader:
    """Grades submissions one after another in this process; `slot` picks the kernel's user."""

    def __init__(self, setup: Setup, slot: int = 0, log=None) -> None:
        self.setup = setup
        self.spec = load(Path(setup.spec_path))
        self.slot = slot
        self.expose = sorted({os.path.realpath(sys.executable), sys.base_prefix, sys.prefix, str(data_root())})
        uid, self.uid_lock = sandbox.claim_uid() if os.geteuid() == 0 else (None, None)
        self.caps = sandbox.probe(str(self.slot_dir() / "probe"), self.expose, uid or sandbox.STUDENT_UID_BASE)
        shutil.rmtree(self.slot_dir() / "probe", ignore_errors=True)
        self.uid = uid if self.caps.switch_user else None
        self.template = Path(setup.template)
        self.release_nb = nbu.read(self.template / "release" / self.spec.id / self.spec.notebook)
        self.source_nb = nbu.read(self.template / "source" / self.spec.id / self.spec.notebook)
        self.others = {k: nbu.read(Path(v)) for k, v in setup.others.items()}
        self.secrets = integrity.secret_lines(self.source_nb)
        self.hidden_cells = {nbu.grade_id(c) for c in self.source_nb.cells if nbu.HIDDEN_BEGIN in c.source}
        self.preload = [m for m in PROTECTED_IMPORTS if _imports(self.source_nb, m)]
        self.log = log or (lambda *_: None)
        os.environ.update(tool_env())  # kernels find their python, nbgrader finds alembic, notebooks find data

    # -- folders ----------------------------------------------------------------------------------------------

    def slot_dir(self) -> Path:
        return Path(self.setup.scratch) / "slots" / f"slot-{self.slot}"

    def _fresh_kernel_dirs(self) -> tuple[Path, Path]:
        slot = self.slot_dir()
        if self.uid is not None:
            sandbox.kill_user(self.uid)  # anything a previous submission left running
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

    def _hidden_paths(self) -> list[str]:
        """What the kernel's mount namespace covers (and the guard refuses to open, where mounts are not
        available): everything but the system folders, the interpreter, the data and the kernel's own slot,
        so no other file of this machine (the repository with the hidden tests, the gradebook, other
        submissions, the grader's home) is visible; plus the caller's outputs and inputs wherever they are."""
        keep = [Path(p) for p in (*sandbox.SYSTEM_FOLDERS, *self.expose)] + [self.slot_dir().resolve()]
        hidden = set(sandbox.hide_all_but(Path("/"), keep))
        hidden |= {str(Path(p).resolve()) for p in self.setup.hide if Path(p).exists()}
        return sorted(p for p in hidden if not any(k.is_relative_to(p) for k in keep))

    def _policy(self, work: Path) -> Path:
        policy = sandbox.Policy(
            limits=asdict(self.setup.limits),
            workdir=str(work),
            uid=self.uid,
            isolate_network=self.caps.network_namespace,
            hide=self.hidden if self.caps.mount_namespace else [],
            expose=self.expose if self.caps.mount_namespace else [],
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
            "graded",
            timestamp=sub.timestamp,
            limits=self.setup.limits.describe(),
            sandbox=self.caps.describe(),
        )
        result.max_score = self.spec.autograded_total
        result.problems = {p.id: [0.0, p.autograded] for p in self.spec.problems}
        result.digest = (
            submissions.folder_digest(sub.folder) if sub.notebook is None else submissions.sha256(sub.notebook)
        )
        try:
            nb = self._read(sub)
            if isinstance(nb, submissions.Rejection):
                result.status, result.message = "rejected", nb.message
                if self.setup.feedback_dir:
                    result.feedback = str(self._rejection_page(sub.student, nb.message))
            else:
                self._grade_notebook(sub, nb, result)
        except GradingError as exc:
            result.status, result.message = "error", str(exc)
        result.seconds = time.monotonic() - start
        return result

    def _read(self, sub: submissions.Submission):
        path = submissions.pick_notebook(sub, self.spec.notebook)
        if isinstance(path, submissions.Rejection):
            return path
        nb = submissions.read_notebook(path)
        if isinstance(nb, submissions.Rejection):
            return nb
        wrong = integrity.identify(nb, self.release_nb, self.others)
        return submissions.Rejection(f"{path.name}: {wrong}") if wrong else nb

    def _grade_notebook(self, sub, student_nb, result: Result) -> None:
        from autograder.grading.kernel import Run

        rebuilt = integrity.rebuild(self.release_nb, student_nb)
        result.notes += rebuilt.notes
        course = Path(tempfile.mkdtemp(prefix=f"{sub.student}-", dir=Path(self.setup.scratch) / "courses"))
        try:
            shutil.copy(self.template / "gradebook.db", course / "gradebook.db")
            (course / "source").mkdir()
            os.symlink(self.template / "source" / self.spec.id, course / "source" / self.spec.id)
            target = course / "submitted" / sub.student / self.spec.id / self.spec.notebook
            target.parent.mkdir(parents=True)
            nbu_write(rebuilt.nb, target)
            if sub.timestamp:
                (target.parent / "timestamp.txt").write_text(str(sub.timestamp))
            work, sock = self._fresh_kernel_dirs()
            self.hidden = self._hidden_paths()
            run = Run(
                limits=self.setup.limits,
                policy_path=str(self._policy(work)),
                socket_dir=str(sock),
                guard_config=self._guard_config(work),
                kernel_name=self.release_nb.metadata.get("kernelspec", {}).get("name", "python3"),
            )
            if not self.setup.guard:
                run.guard_config = {}
            self._autograde(course, sub.student, run)
            result.execute_seconds = run.seconds
            result.flags += [f"{gid}: {text}" for gid, text in run.flags]
            result.notes += [f"{gid}: {text}" for gid, text in run.notes] + run.events
            self._collect(course, sub.student, result)
            if self.setup.feedback_dir:
                result.feedback = str(self._feedback(course, sub.student, result))
        finally:
            if self.uid is not None:
                sandbox.kill_user(self.uid)
            shutil.rmtree(course, ignore_errors=True)
            shutil.rmtree(self.slot_dir(), ignore_errors=True)

    def _guard_config(self, work: Path) -> dict:
        return {
            "name": f"_autograder_guard_{uuid.uuid4().hex}",
            "workdir": str(work),
            "secret": self.hidden,  # opening these is refused and reported, even where mounts cannot hide them
            "writable": ["/tmp", "/var/tmp", "/dev/shm"],
            "preload": self.preload,
        }

    def _config(self, course: Path, student: str):
        from autograder.grading.kernel import GradingExecute, NeutralizeResults

        config = PyFileConfigLoader(NBGRADER_CONFIG.name, path=str(NBGRADER_CONFIG.parent)).load_config()
        config.merge(
            Config(
                {
                    "CourseDirectory": {
                        "root": str(course),
                        "assignment_id": self.spec.id,
                        "student_id": student,
                        "db_url": f"sqlite:///{course / 'gradebook.db'}",
                        "course_id": self.setup.course_id,
                    },
                    "Autograde": {
                        "autograde_preprocessors": [
                            GradingExecute,
                            IgnorePattern,
                            ClearMetadataPreprocessor,
                            NeutralizeResults,
                            LimitOutput,
                            SaveAutoGrades,
                            AssignLatePenalties,
                            CheckCellMetadata,
                        ]
                    },
                }
            )
        )
        return config

    def _run_converter(self, converter_class, course: Path, student: str, extra: dict) -> None:
        config = self._config(course, student)
        records: list[str] = []
        logger = logging.getLogger(f"autograder.nbgrader.{os.getpid()}")
        logger.propagate = False
        logger.handlers = [_ListHandler(records)]
        logger.setLevel(logging.INFO)
        converter = converter_class(coursedir=CourseDirectory(config=config), config=config, log=logger)
        converter.extra_resources = extra
        try:
            with warnings.catch_warnings():
                # nbgrader's update_or_create_submission trips SQLAlchemy autoflush warnings: harmless, and noise
                warnings.simplefilter("ignore", SAWarning)
                converter.start()
        except NbGraderException:
            tail = "\n".join(records[-NBGRADER_LOG_LINES:])
            raise GradingError(f"nbgrader {converter_class.__bases__[0].__name__} failed:\n{tail}") from None

    def _autograde(self, course: Path, student: str, run) -> None:
        self._run_converter(_Autograde, course, student, {"autograder": run})
        graded = course / "autograded" / student / self.spec.id / self.spec.notebook
        if not graded.exists():
            raise GradingError(f"nbgrader wrote no autograded notebook for {student}")

    def _collect(self, course: Path, student: str, result: Result) -> None:
        """Scores per test cell and problem from the scratch gradebook; messages from the graded notebook."""
        from nbgrader.api import Gradebook

        graded = nbu.read(course / "autograded" / student / self.spec.id / self.spec.notebook)
        cells = {nbu.grade_id(c): c for c in graded.cells if nbu.grade_id(c)}
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", self.setup.course_id) as gb:
            notebook = gb.find_submission_notebook(self.spec.notebook.removesuffix(".ipynb"), self.spec.id, student)
            for grade in notebook.grades:
                result.grades[grade.name] = {
                    "auto_score": grade.auto_score,
                    "needs_manual_grade": grade.needs_manual_grade,
                }
            for comment in notebook.comments:
                result.comments[comment.name] = comment.auto_comment
        for i, cell in enumerate(graded.cells):
            if cell.cell_type == "code" and not nbu.is_autograded_test(cell):
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error":
                        text = f"{nbu.grade_id(cell) or f'cell {i}'}: {out.get('ename')}: {out.get('evalue', '')}"
                        result.cell_errors.append(integrity.redact_text(text[:400], self.secrets))
        for cell in self.source_nb.cells:
            gid = nbu.grade_id(cell)
            problem = self.spec.problem_of(gid or "")
            if nbu.is_manual(cell):
                result.manual[gid] = nbu.points(cell)
            if not nbu.is_autograded_test(cell):
                continue
            score = float(result.grades.get(gid, {}).get("auto_score") or 0.0)
            failed_in, message = self._failure(cells.get(gid), cell)
            result.tests.append(
                CellScore(
                    gid,
                    problem.id if problem else "",
                    score,
                    nbu.points(cell),
                    gid in self.hidden_cells,
                    failed_in if score < nbu.points(cell) else None,
                    message,
                )
            )
            if problem:
                result.problems[problem.id][0] += score
        result.score = sum(t.score for t in result.tests)

    def _failure(self, graded_cell, source_cell) -> tuple[str | None, str]:
        """Where a test cell failed (visible or hidden part) and the message the student may see."""
        if graded_cell is None:
            return "visible", "the test cell was not found in the graded notebook"
        for out in graded_cell.get("outputs", []):
            if out.get("output_type") == "error":
                text = f"{out.get('ename')}: {out.get('evalue', '')}".strip()
                return _where(out, source_cell.source), integrity.redact_text(text, self.secrets)
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                first = (out.get("text", "").strip().splitlines() or [""])[0][:300]
                text = f"the test wrote to stderr, which scores 0: {first}"
                return "visible", integrity.redact_text(text, self.secrets)
        return None, ""

    def _rejection_page(self, student: str, message: str) -> Path:
        target = Path(self.setup.feedback_dir) / student / f"{self.spec.id}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        title = f"{self.spec.id}: your submission could not be graded"
        target.write_text(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
            f"<p>Score: 0 / {self.spec.autograded_total:g} autograded points.</p></body></html>",
            encoding="utf-8",
        )
        return target

    def _feedback(self, course: Path, student: str, result: Result) -> Path:
        report = integrity.report_markdown(
            f"Autograder: {result.score:g} / {result.max_score:g} autograded points",
            [
                *(f"{p}: {s:g} / {m:g}" for p, (s, m) in result.problems.items()),
                f"written answers ({sum(result.manual.values()):g} points) are graded by a TA",
                f"limits: {result.limits}",
                f"sandbox: {result.sandbox}",
            ],
            {
                "Errors in cells": result.cell_errors,
                "Notes": result.notes,
                "Integrity findings (the instructor has been told; what was replaced was put back before "
                "the tests ran)": result.flags,
            },
        )
        extra = {"autograder_feedback": {"secrets": self.secrets, "hidden_cells": self.hidden_cells, "report": report}}
        self._run_converter(_Feedback, course, student, extra)
        html = course / "feedback" / student / self.spec.id / self.spec.notebook.replace(".ipynb", ".html")
        target = Path(self.setup.feedback_dir) / student / f"{self.spec.id}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(html, target)
        return target


# -- nbgrader converters that carry our per-submission resources -------------------------------------------------


class _Autograde(Autograde):
    """nbgrader's Autograde; each notebook's resources also carry the submission's `kernel.Run`."""

    extra_resources: dict = {}

    def init_single_notebook_resources(self, notebook_filename):
        resources = super().init_single_notebook_resources(notebook_filename)
        resources.update(self.extra_resources)
        return resources


class _FeedbackHTML(HTMLExporter):
    """nbgrader's feedback page without HTMLExporter's accessibility pass, which re-parses the whole page
    (bootstrap's CSS inlined) with BeautifulSoup and costs more than rendering it. The filters are registered
    as HTMLExporter.from_notebook_node does."""

    def from_notebook_node(self, nb, resources=None, **kw):
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        resources = self._init_resources(resources)
        self.register_filter(
            "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        )
        self.register_filter(
            "filter_data_type",
            WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
        )
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


_FEEDBACK_EXPORTER = None


class _Feedback(GenerateFeedback):
    """nbgrader's GenerateFeedback, with hidden tests cleared, outputs redacted and our report on top."""

    extra_resources: dict = {}
    exporter_class = Type(_FeedbackHTML)
    preprocessors = List([GetGrades, ClearHiddenTests, integrity.Redact, integrity.Report, CSSHTMLHeaderPreprocessor])

    def init_single_notebook_resources(self, notebook_filename):
        resources = super().init_single_notebook_resources(notebook_filename)
        resources.update(self.extra_resources)
        return resources

    def start(self):
        # As BaseConverter.start, but one exporter per worker process: its templates are compiled once, not
        # once per submission. Nothing per-submission lives in the exporter (the preprocessors read the
        # gradebook and our data from each notebook's resources).
        global _FEEDBACK_EXPORTER
        self.init_notebooks()
        self.writer = FilesWriter(parent=self, config=self.config)
        if _FEEDBACK_EXPORTER is None:
            _FEEDBACK_EXPORTER = self.exporter_class(parent=self, config=self.config)
            for pp in self.preprocessors:
                _FEEDBACK_EXPORTER.register_preprocessor(pp)
        self.exporter = _FEEDBACK_EXPORTER
        cwd = os.getcwd()
        os.chdir(self.coursedir.root)
        try:
            self.convert_notebooks()
        finally:
            os.chdir(cwd)


class _ListHandler(logging.Handler):
    def __init__(self, records: list[str]) -> None:
        super().__init__(logging.INFO)
        self.records = records

    def emit(self, record) -> None:
        self.records.append(f"[{record.levelname}] {record.getMessage()}")


# -- helpers ------------------------------------------------------------------------------------------------------


def nbu_write(nb, path: Path) -> None:
    import nbformat

    nbformat.write(nb, str(path))


def _imports(nb, module: str) -> bool:
    pattern = re.compile(rf"^\s*(import|from)\s+{re.escape(module)}(\s|\.|$)", re.M)
    return any(pattern.search(c.source) for c in nb.cells if c.cell_type == "code" and nbu.meta(c).get("locked"))


def _where(error_output, source: str) -> str:
    """'hidden' if the traceback's line in the test cell is in its hidden part, else 'visible'."""
    lines = source.splitlines()
    begin = next((i + 1 for i, line in enumerate(lines) if line.strip() == nbu.HIDDEN_BEGIN), None)
    if begin is None:
        return "visible"
    for entry in error_output.get("traceback", []):
        match = re.search(r"Cell In\[\d+\], line (\d+)", ANSI.sub("", entry))
        if match:
            return "hidden" if int(match.group(1)) > begin else "visible"
    return "hidden"  # no line to go by: say nothing about the hidden tests' content
