"""Writes a report folder: charts, metric tables, the tidy frames and a summary page.

Layout of the folder:

    index.html            summary page, readable offline (charts embedded as PNG data)
    charts/<name>.png     every chart of `plots.CHARTS`
    tables/<name>.csv     KPIs and metric tables
    data/calls.csv, data/turns.csv, data/problems.csv   the three tidy frames
"""

from __future__ import annotations

import base64
import html
import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from . import metrics, plots
from .errors import MalakaiError
from .labels import apply_labels
from .loader import CallLogs

logger = logging.getLogger(__name__)

CHART_SIZES = {"volume_over_time": (9, 4.5), "sentiment_by_agent": (8, 4.5)}
DEFAULT_SIZE = (7.5, 4.5)

CHART_CAPTIONS = {
    "goal_rate_by_agent": "Share of calls with a known outcome that reached the goal, per "
    "agent. Error bars are 95% Wilson intervals: where two bars' intervals overlap a lot, "
    "the data do not show which agent is better. Each name is followed by achieved/known.",
    "sentiment_by_agent": "Share of each platform sentiment label among labelled calls, per "
    "agent; n is the number of labelled calls.",
    "duration_distribution": "How long calls last, split by goal outcome.",
    "volume_over_time": "Calls per week (bars, left axis) and the week's goal rate with its "
    "95% interval (line and band, right axis). Weeks start Monday, UTC.",
    "sentiment_vs_goal": "Calls per sentiment label, stacked by goal outcome.",
}


class ReportError(MalakaiError):
    """The report folder cannot be written."""


@dataclass
class Section:
    """An extra part of the report, contributed by an analysis module.

    Attributes:
        title: heading on the summary page.
        intro: a paragraph of plain text under the heading (escaped when written).
        charts: file stem -> Figure; written to charts/<stem>.png and embedded.
        tables: file stem -> DataFrame; written to tables/<stem>.csv (numbers as
            numbers) and shown.
        captions: file stem -> caption of a chart.
        display: file stem -> a formatted version of that table for the page (e.g.
            percent and p-value text); the CSV keeps the plain one.
    """

    title: str
    intro: str = ""
    charts: dict[str, Figure] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    display: dict[str, pd.DataFrame] = field(default_factory=dict)


#: Functions `(logs, labels) -> Section | None` adding sections after the core report.
#: Analysis modules register theirs here (see `register_section`).
SECTIONS: list = []


def register_section(builder):
    """Add a section builder `(logs: CallLogs, labels: Mapping | None) -> Section`."""
    if builder not in SECTIONS:
        SECTIONS.append(builder)
    return builder


@dataclass(frozen=True)
class Report:
    """What `write_report` wrote.

    Attributes:
        folder: the report folder.
        files: every file written, relative to `folder`, in writing order.
        kpis: the KPI table shown on the summary page (columns metric, value).
    """

    folder: Path
    files: list[Path] = field(default_factory=list)
    kpis: pd.DataFrame | None = None

    @property
    def index(self) -> Path:
        return self.folder / "index.html"


def metric_tables(calls: pd.DataFrame, labels: Mapping | None = None) -> dict[str, pd.DataFrame]:
    """Every metric table of the report, by file stem; with `labels`, tables grouped by
    agent or workflow gain a name column before the id (see `labels.apply_labels`)."""
    tables = {
        "kpis": metrics.kpis(calls),
        "goal_rate_by_agent": metrics.goal_rate(calls, by="agent_id"),
        "goal_rate_by_workflow": metrics.goal_rate(calls, by="workflow_id"),
        "goal_rate_by_sentiment": metrics.goal_rate(calls, by="sentiment"),
        "sentiment_by_agent": metrics.sentiment_shares(calls, by="agent_id"),
        "duration_by_agent": metrics.duration_summary(calls, by="agent_id"),
        "duration_by_goal": metrics.duration_summary(calls, by="goal_achieved"),
        "volume_weekly": metrics.volume(calls, freq="W"),
        "volume_daily": metrics.volume(calls, freq="D"),
    }
    if labels:
        tables = {name: apply_labels(table, labels) for name, table in tables.items()}
    return tables


def render_chart(name: str, calls: pd.DataFrame, labels: Mapping | None = None) -> Figure:
    """Draw one report chart on a new Figure (no pyplot state involved)."""
    figure = Figure(figsize=CHART_SIZES.get(name, DEFAULT_SIZE), layout="constrained")
    ax = figure.subplots()
    chart = plots.CHARTS[name]
    if labels is not None and "labels" in inspect.signature(chart).parameters:
        chart(calls, labels=labels, ax=ax)
    else:
        chart(calls, ax=ax)
    return figure


def write_report(
    logs: CallLogs,
    folder: str | Path,
    *,
    title: str = "Malakai workflow report",
    labels: Mapping | None = None,
    source_note: str = "",
) -> Report:
    """Write the report folder for `logs`.

    Args:
        logs: what to report on (already filtered).
        folder: the folder to write; created if needed, files in it overwritten.
        title: heading of the summary page.
        labels: optional mapping of agent/workflow id -> display name.
        source_note: one line saying where the data came from, shown on the page.

    Returns:
        A Report listing the files written and the KPI table.

    Raises:
        ReportError: the folder cannot be created or written.
    """
    folder = Path(folder)
    try:
        for sub in ("charts", "tables", "data"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ReportError(f"cannot create report folder {folder}: {error.strerror}") from None
    files: list[Path] = []
    calls = logs.calls

    def write(relative: str, writer) -> Path:
        path = folder / relative
        try:
            writer(path)
        except OSError as error:
            raise ReportError(f"cannot write {path}: {error.strerror}") from None
        files.append(Path(relative))
        return path

    charts: dict[str, bytes] = {}
    for name in plots.CHARTS:
        figure = render_chart(name, calls, labels)
        path = write(f"charts/{name}.png",
                     lambda p, f=figure: f.savefig(p, dpi=110, metadata={"Software": None}))
        charts[name] = path.read_bytes()

    tables = metric_tables(calls, labels)
    for name, table in tables.items():
        write(f"tables/{name}.csv", lambda p, t=table: _to_csv(t, p))
    problem_summary = problems_by_kind(logs.problems)
    write("tables/problems_by_kind.csv", lambda p: _to_csv(problem_summary, p))
    for name in ("calls", "turns", "problems"):
        write(f"data/{name}.csv", lambda p, n=name: _to_csv(getattr(logs, n), p))

    sections = []
    for builder in SECTIONS:
        section = builder(logs, labels)
        if section is None:
            continue
        section_charts = {}
        for name, figure in section.charts.items():
            path = write(f"charts/{name}.png",
                         lambda p, f=figure: f.savefig(p, dpi=110, metadata={"Software": None}))
            section_charts[name] = path.read_bytes()
        for name, table in section.tables.items():
            write(f"tables/{name}.csv", lambda p, t=table: _to_csv(t, p))
        sections.append((section, section_charts))

    page = _page(title, source_note, tables, charts, problem_summary, logs, sections)
    write("index.html", lambda p: p.write_text(page, encoding="utf-8"))
    logger.info("wrote %d files to %s", len(files), folder)
    return Report(folder, files, tables["kpis"])


def problems_by_kind(problems: pd.DataFrame) -> pd.DataFrame:
    """Problem rows counted per field and problem code.

    Returns:
        Columns field, problem, rows, example (one raw value, cut to 80 characters).
    """
    if problems.empty:
        return pd.DataFrame({"field": pd.Series(dtype="string"),
                             "problem": pd.Series(dtype="string"),
                             "rows": pd.Series(dtype="Int64"),
                             "example": pd.Series(dtype="string")})
    grouped = problems.groupby(["field", "problem"], sort=True, dropna=False)
    table = grouped.agg(rows=("problem", "size"), example=("value", "first")).reset_index()
    table["example"] = table["example"].str.slice(0, 80)
    return table.astype({"rows": "Int64"})


def _to_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")


def _table_html(frame: pd.DataFrame) -> str:
    shown = frame.copy()
    # With a name column (apply_labels), the shortened id beside it only takes room.
    for name, column in (("agent", "agent_id"), ("workflow", "workflow_id")):
        if name in shown.columns and column in shown.columns:
            shown = shown.drop(columns=column)
    for column in shown.columns:
        dtype = shown[column].dtype
        if column in ("rate", "ci_low", "ci_high", "share"):
            shown[column] = shown[column].map(lambda v: "NA" if pd.isna(v) else f"{v:.1%}")
        elif pd.api.types.is_float_dtype(dtype):
            shown[column] = shown[column].map(lambda v: "NA" if pd.isna(v) else f"{v:,.1f}")
        elif isinstance(dtype, pd.DatetimeTZDtype):
            shown[column] = shown[column].dt.strftime("%Y-%m-%d")
        elif column in ("agent_id", "workflow_id"):
            shown[column] = shown[column].map(plots.group_label)
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) or c in ("rate", "ci_low", "ci_high",
               "share") for c in shown.columns]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for values in shown.itertuples(index=False):  # a few dozen rows: a loop is clearest
        cells = "".join(
            f'<td{" class=num" if is_number else ""}>'
            f"{'NA' if pd.isna(value) else html.escape(str(value))}</td>"
            for value, is_number in zip(values, numeric))
        rows.append(f"<tr>{cells}</tr>")
    table = (f'<table class="table"><thead><tr>{head}</tr></thead>'
             f"<tbody>{''.join(rows)}</tbody></table>")
    return f'<div class="wide">{table}</div>'  # wide tables scroll, the page does not


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px;
       color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } .note { color: #555; }
table.table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
table.table th, table.table td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd;
                                 text-align: left; vertical-align: top; }
table.table th { background: #f4f6f7; }
table.table td.num { text-align: right; font-variant-numeric: tabular-nums; }
div.wide { overflow-x: auto; }
figure { margin: 1rem 0 2rem; } figure img { max-width: 100%; }
figcaption { color: #444; font-size: 0.9rem; }
"""


def _figure_html(name: str, png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure id="{name}"><img alt="{name}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)} (<code>charts/{name}.png</code>)"
            "</figcaption></figure>")


def _section_html(section: Section, charts: dict[str, bytes]) -> list[str]:
    parts = [f"<h2>{html.escape(section.title)}</h2>"]
    if section.intro:
        parts.append(f'<p class="note">{html.escape(section.intro)}</p>')
    for name, png in charts.items():
        parts.append(_figure_html(name, png, section.captions.get(name, "")))
    for name, table in section.tables.items():
        heading = name.replace("_", " ").capitalize()
        parts += [f"<h3>{html.escape(heading)}</h3>",
                  _table_html(section.display.get(name, table))]
    return parts


def _page(title, source_note, tables, charts, problem_summary, logs, sections=()) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if source_note:
        parts.append(f'<p class="note">{html.escape(source_note)}</p>')
    parts += ["<h2>Key numbers</h2>", _table_html(tables["kpis"])]
    parts += [
        '<p class="note">The goal rate counts only calls whose outcome is known; the '
        "interval is a 95% Wilson score interval: the range of true rates consistent with "
        "these calls. Few calls give a wide interval.</p>",
        "<h2>Charts</h2>",
    ]
    for name, png in charts.items():
        parts.append(_figure_html(name, png, CHART_CAPTIONS.get(name, "")))
    parts += [
        "<h2>Goal rate by agent</h2>", _table_html(tables["goal_rate_by_agent"]),
        "<h2>Goal rate by workflow</h2>", _table_html(tables["goal_rate_by_workflow"]),
        "<h2>Duration by agent (seconds)</h2>", _table_html(tables["duration_by_agent"]),
        "<h2>Data quality</h2>",
        f'<p class="note">{len(logs.calls)} calls, {len(logs.turns)} turns, '
        f"{len(logs.problems)} problem rows: values that could not be read (each is NA in "
        "its column) and older copies of a call id that were dropped, each a row of "
        "<code>data/problems.csv</code> with the raw value.</p>",
    ]
    if not problem_summary.empty:
        parts.append(_table_html(problem_summary))
    for section, section_charts in sections:
        parts += _section_html(section, section_charts)
    parts += [
        '<p class="note">Tables: <code>tables/*.csv</code>; tidy data: '
        "<code>data/calls.csv</code>, <code>data/turns.csv</code>, "
        "<code>data/problems.csv</code>. Times are UTC.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
