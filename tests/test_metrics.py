"""Metrics: hand-computed values, Wilson checked against statsmodels, case C08."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_log
from statsmodels.stats.proportion import proportion_confint

from malakai_analytics import load_logs
from malakai_analytics.metrics import (
    duration_summary,
    goal_rate,
    kpis,
    sentiment_shares,
    volume,
)
from malakai_analytics.stats import wilson_interval


def calls_from(**columns):
    """Calls built through the loader from per-call test_result values."""
    n = len(next(iter(columns.values())))
    logs = []
    for i in range(n):
        fields = {"id": f"c{i}"}
        for key, values in columns.items():
            target = key if key in ("agent_id", "workflow_id", "created_at") else f"test_result__{key}"
            fields[target] = values[i]
        logs.append(make_log(**fields))
    return load_logs(logs).calls


# --- Wilson --------------------------------------------------------------------------

def test_wilson_zero_of_one():
    low, high = wilson_interval(0, 1)
    z = 1.959963984540054
    assert low == 0.0
    assert high == pytest.approx(z**2 / (1 + z**2), abs=1e-12)  # 0.79345...
    assert high == pytest.approx(0.7934, abs=1e-4)


@pytest.mark.parametrize("k, n", [(0, 1), (1, 1), (2, 3), (7, 12), (55, 100), (600, 1200), (3, 4)])
def test_wilson_matches_statsmodels(k, n):
    low, high = wilson_interval(k, n)
    ref_low, ref_high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)


def test_wilson_vectorised_and_other_levels():
    low, high = wilson_interval(np.array([1, 5, 0]), np.array([4, 10, 0]), confidence=0.9)
    ref = [proportion_confint(k, n, alpha=0.1, method="wilson") for k, n in ((1, 4), (5, 10))]
    assert low[:2] == pytest.approx([r[0] for r in ref])
    assert high[:2] == pytest.approx([r[1] for r in ref])
    assert np.isnan(low[2]) and np.isnan(high[2])


# --- goal rate ----------------------------------------------------------------------

def test_goal_rate_by_agent_counts_unknown_outcomes():
    calls = calls_from(
        agent_id=["A", "A", "A", "B", "B", "C"],
        goal_achieved=["yes", "no", "", "no", "no", None],
    )
    table = goal_rate(calls, by="agent_id")
    assert list(table.columns) == ["agent_id", "calls", "known", "unknown", "achieved", "rate",
                                   "ci_low", "ci_high"]
    assert table["agent_id"].tolist() == ["A", "B", "C"]
    assert table["calls"].tolist() == [3, 2, 1]
    assert table["known"].tolist() == [2, 2, 0]
    assert table["unknown"].tolist() == [1, 0, 1]
    assert table["achieved"].tolist() == [1, 0, 0]
    assert table["rate"].iloc[0] == 0.5 and table["rate"].iloc[1] == 0.0
    assert pd.isna(table["rate"].iloc[2]) and pd.isna(table["ci_low"].iloc[2])
    ref = proportion_confint(1, 2, method="wilson")
    assert (table["ci_low"].iloc[0], table["ci_high"].iloc[0]) == pytest.approx(ref)


def test_goal_rate_zero_of_one_interval():
    table = goal_rate(calls_from(goal_achieved=["no"]))
    assert table["ci_low"].iloc[0] == 0.0
    assert table["ci_high"].iloc[0] == pytest.approx(0.7934, abs=1e-4)


def test_missing_group_value_is_its_own_group():
    calls = calls_from(agent_id=["A", "", "A"], goal_achieved=["yes", "yes", "no"])
    table = goal_rate(calls, by="agent_id")
    assert len(table) == 2 and table["calls"].sum() == 3
    assert pd.isna(table["agent_id"].iloc[1]) and table["achieved"].iloc[1] == 1


def test_goal_rate_by_two_columns_keeps_empty_sentiments():
    calls = calls_from(agent_id=["A", "B"], sentiment=["neutral", "positive"],
                       goal_achieved=["yes", "no"])
    table = goal_rate(calls, by=["agent_id", "sentiment"])
    assert len(table) == 6  # 2 agents x 3 sentiments
    row = table[(table["agent_id"] == "A") & (table["sentiment"] == "neutral")].iloc[0]
    assert (row["calls"], row["achieved"]) == (1, 1)
    assert table["calls"].sum() == 2


def test_unknown_column_is_a_clear_error():
    with pytest.raises(KeyError, match="no column"):
        goal_rate(calls_from(goal_achieved=["yes"]), by="agent")


# --- C08 -----------------------------------------------------------------------------

def test_c08_empty_categories_stay():
    calls = calls_from(sentiment=["neutral", "neutral", "negative"],
                       call_duration=["100 seconds", "200 seconds", "60 seconds"])
    shares = sentiment_shares(calls).set_index("sentiment")
    assert shares.loc["positive", "calls"] == 0 and shares.loc["positive", "share"] == 0.0
    assert shares.loc["neutral", "calls"] == 2
    assert shares.loc["neutral", "share"] == pytest.approx(0.667, abs=5e-4)
    assert shares.loc["negative", "calls"] == 1
    assert shares.loc["negative", "share"] == pytest.approx(0.333, abs=5e-4)
    assert list(shares.index) == ["negative", "neutral", "positive"]
    durations = duration_summary(calls, by="sentiment").set_index("sentiment")
    assert len(durations) == 3
    assert pd.isna(durations.loc["positive", "mean"])
    assert durations.loc["positive", "calls"] == 0
    assert durations.loc["neutral", "mean"] == 150.0
    assert durations.loc["negative", "mean"] == 60.0


def test_sentiment_shares_by_group_denominators():
    calls = calls_from(agent_id=["A", "A", "A", "B"],
                       sentiment=["positive", "negative", "unsure", "neutral"])
    table = sentiment_shares(calls, by="agent_id")
    a = table[table["agent_id"] == "A"].set_index("sentiment")
    assert a["known"].tolist() == [2, 2, 2]  # the unknown label is not in the denominator
    assert a["share"].tolist() == [0.5, 0.0, 0.5]
    b = table[table["agent_id"] == "B"].set_index("sentiment")
    assert b["share"].tolist() == [0.0, 1.0, 0.0]


# --- durations -----------------------------------------------------------------------

def test_duration_summary_values():
    values = [f"{s} seconds" for s in (10, 20, 30, 40, 100)]
    summary = duration_summary(calls_from(call_duration=values)).iloc[0]
    assert summary["mean"] == 40.0 and summary["median"] == 30.0
    assert summary["p90"] == pytest.approx(76.0)  # 40 + 0.6 * (100 - 40), linear
    assert (summary["min"], summary["max"], summary["total"]) == (10.0, 100.0, 200.0)
    assert np.percentile([10, 20, 30, 40, 100], 90) == pytest.approx(summary["p90"])


# --- volume --------------------------------------------------------------------------

def test_volume_weekly_fills_empty_weeks():
    created = ["2025-07-07T09:00:00Z", "2025-07-13T23:59:59Z",  # Mon, Sun of one week
               "2025-07-28T10:00:00Z"]                            # two weeks later
    calls = calls_from(created_at=created, goal_achieved=["yes", "no", "yes"])
    table = volume(calls, freq="W")
    assert table["period_start"].tolist() == [
        pd.Timestamp(day, tz="UTC") for day in ("2025-07-07", "2025-07-14", "2025-07-21",
                                                "2025-07-28")
    ]
    assert table["calls"].tolist() == [2, 0, 0, 1]
    assert table["achieved"].tolist() == [1, 0, 0, 1]
    assert table["rate"].iloc[0] == 0.5 and pd.isna(table["rate"].iloc[1])
    assert str(table["period_start"].dtype) == "datetime64[us, UTC]"


def test_volume_daily_by_agent():
    calls = calls_from(created_at=["2025-07-07T23:30:00Z", "2025-07-08T00:30:00Z",
                                   "2025-07-09T12:00:00Z"],
                       agent_id=["A", "B", "A"], goal_achieved=["yes", "yes", "no"])
    table = volume(calls, freq="D", by="agent_id")
    assert len(table) == 6  # 2 agents x 3 days
    a = table[table["agent_id"] == "A"]
    assert a["calls"].tolist() == [1, 0, 1]
    b = table[table["agent_id"] == "B"]
    assert b["calls"].tolist() == [0, 1, 0]


def test_volume_rejects_unknown_frequency():
    with pytest.raises(ValueError, match="freq"):
        volume(calls_from(goal_achieved=["yes"]), freq="M")


# --- empty input and KPIs ------------------------------------------------------------

def test_every_metric_on_no_calls():
    calls = load_logs([]).calls
    assert goal_rate(calls)["calls"].tolist() == [0]
    assert sentiment_shares(calls)["calls"].tolist() == [0, 0, 0]
    assert duration_summary(calls)["known"].tolist() == [0]
    assert volume(calls).empty and list(volume(calls).columns)[0] == "period_start"
    assert kpis(calls).set_index("metric").loc["calls", "value"] == "0"


def test_kpis_of_the_example(example_path):
    table = kpis(load_logs(example_path).calls).set_index("metric")["value"]
    assert table["calls"] == "1"
    assert table["goal rate"] == "0.0% (0 of 1 known)"
    assert table["goal rate 95% interval"] == "0.0% to 79.3%"
    assert table["median duration (s)"] == "210"
    assert table["neutral sentiment"] == "100.0%"
    assert table["first call (UTC)"] == "2025-07-08 11:19"
