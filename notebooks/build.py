"""Build and execute the notebooks from their sources in notebooks/sources/.

Each source is a Python file in the "percent" format: a line `# %%` starts a code cell,
`# %% [markdown]` a markdown cell whose lines start with `# `. The notebooks are
committed executed (strict nbval compares their outputs), so run this after changing a
source or anything the notebooks show:

    python notebooks/build.py                 # every notebook
    python notebooks/build.py workflow_report # one

Execution uses kernel `python3`, the notebooks folder as working directory, and fails
on any cell error. Outputs must be deterministic: no times, ports or random ids.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
# Kernels import the package from this source tree, as the tests do.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(HERE.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
)


def read_cells(source: Path) -> list:
    """Split a percent-format source into notebook cells."""
    cells, kind, lines = [], None, []

    def flush():
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(text))
        elif kind == "code" and text:
            cells.append(nbformat.v4.new_code_cell(text))

    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        elif kind == "code":
            lines.append(line)
    flush()
    return cells


def build(name: str, timeout: int = 600, *, sources: Path = SOURCES,
          environment=contextlib.nullcontext) -> Path:
    """Build notebooks/<name>.ipynb from <sources>/<name>.py and execute it in place.

    Args:
        name: the notebook's name, without .ipynb.
        timeout: seconds a cell may run.
        sources: folder of the percent-format source.
        environment: a context manager factory wrapped around the execution (the
            fetch notebook's harness sets the fake API's variables with it).
    """
    notebook = nbformat.v4.new_notebook()
    notebook.cells = read_cells(sources / f"{name}.py")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    # No timing metadata: it changes on every build.
    runner = ExecutePreprocessor(timeout=timeout, kernel_name="python3", record_timing=False)
    with environment():
        runner.preprocess(notebook, {"metadata": {"path": str(HERE)}})
    for index, cell in enumerate(notebook.cells):  # stable ids keep diffs small
        cell["id"] = f"{name[:20]}-{index:02d}"
        for output in cell.get("outputs", []):
            if output.get("name") == "stderr" or output.get("output_type") == "error":
                raise RuntimeError(f"{name} cell {index} failed or wrote to stderr: {output}")
    target = HERE / f"{name}.ipynb"
    nbformat.write(notebook, target)
    return target


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.stem for p in SOURCES.glob("*.py"))
    for item in names:
        print(build(item))
