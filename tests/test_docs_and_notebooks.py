"""README's data dictionary and the notebooks' own rules (cases C10-C12)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from malakai_analytics import schema

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_readme_data_dictionary_lists_every_column():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for table, spec in schema.TABLES.items():
        section = readme.split(f"### `{table}`", 1)[1].split("###", 1)[0]
        listed = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, flags=re.M)
        assert [name for name, _ in listed] == list(spec), table
        for name, dtype in listed:
            expected = {"sentiment": "ordered category", "role": "category"}.get(name, str(spec[name]))
            assert dtype.strip() == expected, (table, name)


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"workflow_report.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_c12_notebook_kernel_and_execution(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and all(c["execution_count"] is not None for c in code), "commit it executed"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "executed top to bottom in one run"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_c10_c11_no_stderr_and_plot_cells_end_with_semicolon(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]).rstrip()
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr", source
            assert output.get("output_type") != "error", source
        last = source.splitlines()[-1] if source else ""
        if re.search(r"\bplot_\w+\(", last):
            assert last.endswith(";"), f"plot cell must end with ';': {last}"
        texts = [o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])]
        for text in texts:
            text = "".join(text)
            assert "Line2D at 0x" not in text and "AxesSubplot" not in text, text
