"""Charts: the artists they draw (heights, labels, colours), empty input, headless use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pytest
from conftest import make_log
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from statsmodels.stats.proportion import proportion_confint

from malakai_analytics import load_logs, plots

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def calls():
    rows = [  # agent, goal, sentiment, duration, created
        ("A", "yes", "positive", "60 seconds", "2025-07-07T10:00:00Z"),
        ("A", "yes", "neutral", "120 seconds", "2025-07-08T10:00:00Z"),
        ("A", "no", "negative", "30 seconds", "2025-07-15T10:00:00Z"),
        ("B", "no", "negative", "45 seconds", "2025-07-15T11:00:00Z"),
        ("B", "", "neutral", "300 seconds", "2025-07-16T11:00:00Z"),
    ]
    logs = [make_log(id=f"c{i}", agent_id=a, created_at=t, test_result__goal_achieved=g,
                     test_result__sentiment=s, test_result__call_duration=d)
            for i, (a, g, s, d, t) in enumerate(rows)]
    return load_logs(logs).calls


def new_axes():
    return Figure().subplots()


def bar_patches(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def same_colour(a, b):
    return mcolors.to_hex(a) == mcolors.to_hex(b)


def test_goal_rate_bars_and_intervals(calls):
    ax = new_axes()
    assert plots.plot_goal_rate(calls, ax=ax) is ax
    bars = bar_patches(ax)
    assert [round(b.get_height(), 6) for b in bars] == [round(2 / 3, 6), 0.0]
    assert all(same_colour(b.get_facecolor(), plots.GOAL_COLORS["achieved"]) for b in bars)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A\n2/3", "B\n0/1"]
    assert "goal rate" in ax.get_ylabel()
    # The error bar of A spans its Wilson interval.
    segments = ax.collections[0].get_segments()
    low, high = proportion_confint(2, 3, method="wilson")
    assert segments[0][:, 1] == pytest.approx([low, high])


def test_goal_rate_uses_name_mapping(calls):
    ax = plots.plot_goal_rate(calls, labels={"A": "Booking bot"}, ax=new_axes())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Booking bot\n2/3", "B\n0/1"]


def test_sentiment_shares_stack_to_one(calls):
    ax = plots.plot_sentiment_shares(calls, ax=new_axes())
    bars = bar_patches(ax)
    assert len(bars) == 6  # 2 agents x 3 labels
    widths = np.array([b.get_width() for b in bars]).reshape(3, 2)  # label x agent
    assert widths[:, 0] == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    assert widths[:, 1] == pytest.approx([0.5, 0.5, 0.0])
    colours = [mcolors.to_hex(bars[i].get_facecolor()) for i in (0, 2, 4)]
    assert colours == [plots.SENTIMENT_COLORS[s] for s in ("negative", "neutral", "positive")]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A (n=3)", "B (n=2)"]


def test_duration_histogram_by_goal(calls):
    ax = plots.plot_duration_distribution(calls, bins=[0, 100, 200, 300], ax=new_axes())
    assert ax.get_xlabel() == "duration (s)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["achieved (n=2)", "not achieved (n=2)", "unknown (n=1)"]
    assert len(ax.patches) == 3


def test_volume_bars_per_week_and_rate(calls):
    ax = plots.plot_volume(calls, freq="W", ax=new_axes())
    heights = [b.get_height() for b in bar_patches(ax)]
    assert heights == [2, 3]
    assert ax.get_xlabel() == "week starting (UTC)"
    line = ax.rate_axes.get_lines()[0]
    assert list(line.get_ydata()) == pytest.approx([1.0, 0.0])  # 2/2, then 0/2 known
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2025-07-07", "2025-07-14"]


def test_sentiment_vs_goal_counts(calls):
    ax = plots.plot_sentiment_vs_goal(calls, ax=new_axes())
    bars = bar_patches(ax)
    heights = np.array([b.get_height() for b in bars]).reshape(3, 3)  # outcome x sentiment
    assert heights.tolist() == [[0, 1, 1], [2, 0, 0], [0, 1, 0]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["negative", "neutral", "positive"]


@pytest.mark.parametrize("name", list(plots.CHARTS))
def test_every_chart_on_no_calls(name):
    ax = new_axes()
    empty = load_logs([]).calls
    assert plots.CHARTS[name](empty, ax=ax) is ax
    assert [t.get_text() for t in ax.texts] == ["No calls"]


def test_ax_none_draws_on_current_axes(calls):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        assert plots.plot_goal_rate(calls) is ax
    finally:
        plt.close(fig)


def test_c09_headless_without_a_backend(tmp_path):
    """Import and draw every chart with no display and no backend chosen."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    env["PYTHONPATH"] = str(ROOT)
    env["MPLCONFIGDIR"] = str(tmp_path)
    script = (
        "import matplotlib.pyplot as plt, malakai_analytics as m\n"
        "from malakai_analytics import plots\n"
        "calls = m.load_logs('tests/data/get_workflow_logs_example.json').calls\n"
        "for name, chart in plots.CHARTS.items():\n"
        "    fig, ax = plt.subplots(); chart(calls, ax=ax); fig.savefig(f'{name}.png')\n"
        "import matplotlib; print(matplotlib.get_backend())\n"
    )
    run = subprocess.run([sys.executable, "-c", script.replace("tests/", str(ROOT) + "/tests/")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().lower() == "agg"
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(f"{n}.png" for n in plots.CHARTS)


def test_library_never_chooses_a_backend_or_shows():
    source = "\n".join(p.read_text() for p in (ROOT / "malakai_analytics").glob("*.py"))
    assert "matplotlib.use(" not in source and "plt.show(" not in source
