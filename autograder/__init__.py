"""Course tooling: fetch data, release, check, grade and export the homework notebooks."""

__version__ = "0.1.0"
