"""Notebook to PDF through nbconvert's LaTeX route (pandoc + xelatex)."""

from __future__ import annotations

from pathlib import Path

from nbconvert import PDFExporter
from nbconvert.exporters.pdf import LatexFailed


class ExportError(RuntimeError):
    """LaTeX could not build the PDF; the message says where to look."""


def export_pdf(nb, out: Path, *, title: str, workdir: Path) -> Path:
    """Write `nb` (executed) as a PDF with `title` on its first page."""
    exporter = PDFExporter()
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    nb = nb.copy()
    nb.metadata["title"] = title
    try:
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": out.stem, "path": str(workdir)}})
    except LatexFailed as exc:
        tail = "\n".join(exc.output.splitlines()[-30:]) if exc.output else ""
        raise ExportError(f"xelatex could not build {out}:\n{tail}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    return out
