"""nbgrader configuration for the course repository (the course directory is this folder)."""

from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    SaveCells,
)

c = get_config()  # noqa: F821 -- injected by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "intro-deep-learning"
c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

# What students see where an answer goes.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
OPTIONAL_STUB = "# YOUR CODE HERE (optional, not graded)\npass"


class ClearSolutionsKeepRunning(ClearSolutions):
    """ClearSolutions, except that optional answer cells (cell metadata `course.optional: true`) get a stub that
    does not raise, so Run All never stops at a cell that earns nothing. Defined here, not in the package, so
    that a plain `nbgrader generate_assignment` produces the committed release too."""

    def preprocess_cell(self, cell, resources, cell_index):
        if not cell.metadata.get("course", {}).get("optional"):
            return super().preprocess_cell(cell, resources, cell_index)
        saved = self.code_stub
        self.code_stub = {**saved, "python": OPTIONAL_STUB}
        try:
            return super().preprocess_cell(cell, resources, cell_index)
        finally:
            self.code_stub = saved


# nbgrader 0.9's GenerateAssignment.preprocessors, with ClearSolutions replaced.
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    ClearSolutionsKeepRunning,
    ClearOutput,
    CheckCellMetadata,
    ComputeChecksums,
    SaveCells,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
]

# The key's notebooks carry no outputs; never ship any that slipped through.
c.ClearOutput.enabled = True

# A cell that runs longer than this is interrupted and scored as failed (infinite loops, runaway training).
c.Execute.timeout = 120
