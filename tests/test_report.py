"""The report folder and the `malakai-analytics report` command."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import envelope, make_log

from malakai_analytics import load_logs, plots
from malakai_analytics.cli import main
from malakai_analytics.report import write_report

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def export(tmp_path):
    rows = [("A", "yes", "2025-07-07T10:00:00Z"), ("A", "no", "2025-07-15T10:00:00Z"),
            ("A", "yes", "2025-07-16T10:00:00Z"), ("B", "no", "2025-07-16T12:00:00Z"),
            ("B", "maybe", "2025-07-22T12:00:00Z")]
    logs = [make_log(id=f"c{i}", agent_id=a, workflow_id="W", created_at=t,
                     test_result__goal_achieved=g) for i, (a, g, t) in enumerate(rows)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(envelope(logs)), encoding="utf-8")
    return path


def run_cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "malakai_analytics", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_write_report_files_and_page(export, tmp_path):
    logs = load_logs(export)
    report = write_report(logs, tmp_path / "out")
    names = {str(p) for p in report.files}
    assert {f"charts/{n}.png" for n in plots.CHARTS} <= names
    assert {"index.html", "data/calls.csv", "data/turns.csv", "data/problems.csv",
            "tables/kpis.csv", "tables/goal_rate_by_agent.csv"} <= names
    for path in report.files:
        assert (report.folder / path).stat().st_size > 0
    page = report.index.read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    figures = re.findall(r'<figure id="([^"]+)"><img', page)
    assert len(images) == len(figures)
    assert list(plots.CHARTS) == figures[:len(plots.CHARTS)]  # registered sections add more
    # every chart written is embedded: the core ones and those of registered sections
    assert len(images) == sum(str(p).startswith("charts/") for p in report.files)
    assert all(base64.b64decode(data).startswith(PNG_MAGIC) for data in images)
    assert "http://" not in page and "<script" not in page  # readable offline
    assert "3 of 5 known" not in page and "2 of 4 known" in page  # maybe is unknown
    goal = pd.read_csv(report.folder / "tables/goal_rate_by_agent.csv")
    assert goal["achieved"].tolist() == [2, 0] and goal["known"].tolist() == [3, 1]
    calls = pd.read_csv(report.folder / "data/calls.csv")
    assert len(calls) == 5 and calls["created_at"].iloc[0] == "2025-07-07T10:00:00.000000Z"
    problems = pd.read_csv(report.folder / "data/problems.csv")
    assert problems["value"].tolist() == ["maybe"]


def test_report_on_no_calls(tmp_path):
    report = write_report(load_logs([]), tmp_path / "empty")
    assert (report.folder / "charts/goal_rate_by_agent.png").read_bytes().startswith(PNG_MAGIC)
    assert "0 calls" in report.index.read_text(encoding="utf-8")


def test_cli_report_writes_and_prints(export, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", str(export), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "Loaded 5 calls from 1 source(s)" in printed.out
    assert "goal rate" in printed.out and "50.0% (2 of 4 known)" in printed.out
    assert "charts/volume_over_time.png" in printed.out
    assert printed.err == ""
    assert (out / "index.html").exists()


def test_cli_filters(export, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", str(export), "--out", str(out), "--agent", "A",
                 "--since", "2025-07-14", "--until", "2025-07-16"]) == 0
    assert "reporting on 1 calls" in capsys.readouterr().out
    calls = pd.read_csv(out / "data/calls.csv")
    assert calls["call_id"].tolist() == ["c1"]


@pytest.mark.parametrize(
    "content, message",
    [("{broken", "not valid JSON"), ("[1, 2]", "a list with no JSON objects")],
)
def test_cli_bad_input_is_one_line(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    run = run_cli("report", str(bad), "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert lines[0].startswith("malakai-analytics: error: ") and message in lines[0]
    assert str(bad) in lines[0]
    assert not (tmp_path / "r").exists()


def test_cli_missing_file_and_bad_date(tmp_path, export):
    run = run_cli("report", str(tmp_path / "none.json"), cwd=tmp_path)
    assert run.returncode == 1 and "no such file" in run.stderr and "Traceback" not in run.stderr
    run = run_cli("report", str(export), "--since", "last week", cwd=tmp_path)
    assert run.returncode == 1 and "--since 'last week' is not a date" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_registered_section_is_written(export, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from malakai_analytics import report as report_module

    def section(logs, labels):
        figure = Figure()
        figure.subplots().bar([0], [len(logs.calls)])
        table = pd.DataFrame({"calls": [len(logs.calls)]})
        return report_module.Section("Extra <part>", "Why & how.", {"extra_chart": figure},
                                     {"extra_table": table}, {"extra_chart": "A caption."})

    monkeypatch.setattr(report_module, "SECTIONS", [section])
    report = write_report(load_logs(export), tmp_path / "out")
    assert Path("charts/extra_chart.png") in report.files
    assert pd.read_csv(report.folder / "tables/extra_table.csv")["calls"].tolist() == [5]
    page = report.index.read_text(encoding="utf-8")
    assert "<h2>Extra &lt;part&gt;</h2>" in page and "Why &amp; how." in page
    assert 'id="extra_chart"' in page and "A caption." in page
