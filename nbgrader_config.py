"""nbgrader configuration for the course repository (the course directory is this folder)."""

c = get_config()  # noqa: F821 -- injected by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "intro-deep-learning"
c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

# What students see where an answer goes.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The key's notebooks carry no outputs; never ship any that slipped through.
c.ClearOutput.enabled = True

# A cell that runs longer than this is interrupted and scored as failed (infinite loops, runaway training).
c.Execute.timeout = 120
