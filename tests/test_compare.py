"""Comparisons (issue 6): every number checked against statsmodels/scipy or by hand.

Fixed tables (successes1, trials1, successes2, trials2) used throughout:

- 60/100 vs 50/100 and 720/1200 vs 600/1200: the issue's 60% against 50%, on few
  and on many calls;
- 7/12 vs 5/12: a dozen test calls;
- 1/4 vs 3/5, 0/10 vs 4/10, 10/10 vs 0/3: expected counts under 5 (Fisher's test).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from conftest import envelope, make_log
from matplotlib.figure import Figure
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
    samplesize_proportions_2indep_onetail,
)

from malakai_analytics import load_logs, plots, sample, schema, stats
from malakai_analytics.cli import main
from malakai_analytics.compare import (
    calls_needed,
    compare_durations,
    compare_periods,
    compare_rates,
    outcome_values,
    comparison_section,
    p_chart,
)
from malakai_analytics.labels import LabelsError, apply_labels, label_for, read_labels
from malakai_analytics.report import write_report

ROOT = Path(__file__).resolve().parents[1]

TABLES = [(60, 100, 50, 100), (720, 1200, 600, 1200), (7, 12, 5, 12),
          (1, 4, 3, 5), (0, 10, 4, 10), (10, 10, 0, 3)]
SMALL = [(1, 4, 3, 5), (0, 10, 4, 10), (10, 10, 0, 3)]


# --- stats: the pure helpers ----------------------------------------------------------

@pytest.mark.parametrize("table", TABLES, ids=str)
def test_newcombe_matches_statsmodels(table):
    expected = confint_proportions_2indep(*table, method="newcomb", compare="diff")
    assert stats.newcombe_interval(*table) == pytest.approx(expected, abs=1e-12)
    expected90 = confint_proportions_2indep(*table, method="newcomb", alpha=0.1)
    assert stats.newcombe_interval(*table, confidence=0.9) == pytest.approx(expected90,
                                                                           abs=1e-12)


def test_newcombe_vectorised_and_empty_side():
    k1, n1, k2, n2 = (np.array(column) for column in zip(*TABLES))
    low, high = stats.newcombe_interval(k1, n1, k2, n2)
    for i, table in enumerate(TABLES):
        assert (low[i], high[i]) == pytest.approx(stats.newcombe_interval(*table))
    assert np.isnan(stats.newcombe_interval(1, 2, 0, 0)).all()


@pytest.mark.parametrize("table", TABLES, ids=str)
def test_z_test_matches_statsmodels_and_chi_square(table):
    k1, n1, k2, n2 = table
    z, p = stats.two_proportion_z_test(*table)
    expected_z, expected_p = proportions_ztest([k1, k2], [n1, n2])
    assert (z, p) == pytest.approx((expected_z, expected_p), rel=1e-12)
    chi2 = scipy_stats.chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False)
    assert z**2 == pytest.approx(chi2.statistic) and p == pytest.approx(chi2.pvalue)


def test_z_test_hand_computed_and_degenerate():
    # 60/100 vs 50/100: pooled 0.55, se = sqrt(0.55 * 0.45 * 0.02) = 0.070356
    z, p = stats.two_proportion_z_test(60, 100, 50, 100)
    assert z == pytest.approx(0.1 / np.sqrt(0.55 * 0.45 * 0.02))
    assert p == pytest.approx(0.155218, abs=1e-6)
    assert np.isnan(stats.two_proportion_z_test(3, 3, 5, 5)).all()  # no variance


@pytest.mark.parametrize("table", TABLES, ids=str)
def test_fisher_matches_scipy(table):
    k1, n1, k2, n2 = table
    expected = scipy_stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
    assert stats.fisher_exact_test(*table) == pytest.approx(expected, rel=1e-12)


def test_fisher_hand_computed():
    # 1/4 vs 3/5: a = successes in group 1 given the margins (4 successes of 9);
    # P(a) = C(4,a) C(5,4-a) / C(9,4): a=0 5, a=1 40, a=2 60, a=3 20, a=4 1 (of 126).
    # Tables no more likely than the observed a=1: a = 0, 1, 3, 4.
    assert stats.fisher_exact_test(1, 4, 3, 5) == pytest.approx((5 + 40 + 20 + 1) / 126)


@pytest.mark.parametrize("table, expected", [
    ((60, 100, 50, 100), 45.0), ((7, 12, 5, 12), 6.0), ((1, 4, 3, 5), 16 / 9),
    ((0, 10, 4, 10), 2.0), ((10, 10, 0, 3), 9 / 13)])
def test_min_expected_count(table, expected):
    assert stats.min_expected_count(*table) == pytest.approx(expected)


def test_compare_proportions_picks_fisher_under_five():
    k1, n1, k2, n2 = (np.array(column) for column in zip(*TABLES))
    result = stats.compare_proportions(k1, n1, k2, n2)
    assert result["test"].tolist() == ["z", "z", "z", "fisher", "fisher", "fisher"]
    for i, table in enumerate(TABLES):
        expected = (stats.fisher_exact_test(*table) if table in SMALL
                    else stats.two_proportion_z_test(*table)[1])
        assert result["p_value"][i] == pytest.approx(expected)
        assert result["diff"][i] == pytest.approx(table[0] / table[1] - table[2] / table[3])
    same = stats.compare_proportions(3, 3, 5, 5)  # no variance: Fisher, p = 1
    assert same["test"].tolist() == "fisher" and same["p_value"] == pytest.approx(1.0)


@pytest.mark.parametrize("p", [
    [0.01, 0.04, 0.03, 0.2, 0.005],
    [0.5, 0.5, 0.001, 0.049],
    [0.9, 0.02, 0.03, 0.04, 0.045, 0.0001, 0.3],
])
def test_holm_matches_statsmodels(p):
    assert stats.holm_adjust(p) == pytest.approx(multipletests(p, method="holm")[1])


def test_holm_hand_computed_and_nan():
    # sorted 0.005, 0.01, 0.03 (x3, x2, x1) -> 0.015, 0.02, 0.03; NaN stays out.
    adjusted = stats.holm_adjust([0.03, np.nan, 0.005, 0.01])
    assert adjusted[[0, 2, 3]] == pytest.approx([0.03, 0.015, 0.02])
    assert np.isnan(adjusted[1])
    assert stats.holm_adjust([0.6, 0.7]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert stats.holm_adjust([]).size == 0


@pytest.mark.parametrize("rates", [(0.5, 0.6), (0.55, 0.7), (0.25, 0.55), (0.1, 0.05)],
                         ids=str)
@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_sample_size_matches_statsmodels(rates, ratio):
    base, other = rates
    pooled = stats.sample_size_two_proportions(other, base, 0.8, 0.05, ratio=ratio)
    assert pooled == pytest.approx(samplesize_proportions_2indep_onetail(
        other - base, base, 0.8, ratio=ratio, alpha=0.05), rel=1e-12)
    arcsine = stats.sample_size_two_proportions(other, base, 0.8, 0.05, ratio=ratio,
                                                method="arcsine")
    assert arcsine == pytest.approx(NormalIndPower().solve_power(
        proportion_effectsize(other, base), alpha=0.05, power=0.8, ratio=ratio), rel=1e-6)


def test_sample_size_hand_computed_and_errors():
    # 50% vs 60%: (1.959964 sqrt(2 * .55 * .45) + 0.841621 sqrt(.25 + .24))^2 / 0.01
    z_a, z_b = 1.959963985, 0.841621234
    by_hand = (z_a * np.sqrt(2 * 0.55 * 0.45) + z_b * np.sqrt(0.25 + 0.24)) ** 2 / 0.01
    assert stats.sample_size_two_proportions(0.5, 0.6) == pytest.approx(by_hand, rel=1e-8)
    with pytest.raises(ValueError, match="equal"):
        stats.sample_size_two_proportions(0.5, 0.5)
    with pytest.raises(ValueError, match="rate1"):
        stats.sample_size_two_proportions(0.0, 0.5)
    with pytest.raises(ValueError, match="method"):
        stats.sample_size_two_proportions(0.4, 0.5, method="exact")


def test_p_chart_limits_hand_computed():
    lcl, ucl = stats.p_chart_limits(0.5, np.array([25, 100, 0]))
    assert lcl[:2] == pytest.approx([0.5 - 3 * 0.1, 0.5 - 3 * 0.05])
    assert ucl[:2] == pytest.approx([0.8, 0.65])
    assert np.isnan(lcl[2]) and np.isnan(ucl[2])
    assert stats.p_chart_limits(0.1, 4) == pytest.approx((0.0, 0.55))  # clipped at 0


# --- building calls from counts -------------------------------------------------------

def make_calls(groups, *, by="agent_id", start="2025-07-07T10:00:00Z", sentiment=None,
               durations=None):
    """A `calls` frame: per group (events, known[, unknown]) goal outcomes.

    `sentiment` maps a group to a list of labels (None: NA) for its first calls;
    `durations` maps a group to the durations of its first calls.
    """
    rows = []
    for group, counts in groups.items():
        events, known, unknown = (*counts, 0) if len(counts) == 2 else counts
        goals = [True] * events + [False] * (known - events) + [None] * unknown
        labels = list((sentiment or {}).get(group, []))
        seconds = list((durations or {}).get(group, []))
        for i, goal in enumerate(goals):
            rows.append({by: group, "goal_achieved": goal,
                         "sentiment": labels[i] if i < len(labels) else None,
                         "duration_s": seconds[i] if i < len(seconds) else None})
    frame = pd.DataFrame(rows)
    frame["call_id"] = [f"c{i}" for i in range(len(frame))]
    frame["created_at"] = pd.Timestamp(start)
    return schema.conform(frame, "calls")


def rate_row(table, group, by="agent_id"):
    return table[table[by] == group].iloc[0]


# --- compare_rates ------------------------------------------------------------------

@pytest.mark.parametrize("table", TABLES, ids=str)
def test_compare_rates_against_baseline_matches_statsmodels(table):
    k1, n1, k2, n2 = table
    calls = make_calls({"A": (k1, n1), "B": (k2, n2)})
    result = compare_rates(calls, baseline="B")
    assert result["agent_id"].tolist() == ["A"]  # the baseline's own row is left out
    row = result.iloc[0]
    assert (row["events"], row["known"], row["baseline_events"], row["baseline_known"]) == (
        k1, n1, k2, n2)
    assert row["rate"] == pytest.approx(k1 / n1) and row["baseline_rate"] == pytest.approx(
        k2 / n2)
    assert row["baseline"] == "B"
    assert row["diff"] == pytest.approx(k1 / n1 - k2 / n2)
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb")
    assert (row["diff_low"], row["diff_high"]) == pytest.approx((low, high), abs=1e-12)
    if table in SMALL:
        expected = scipy_stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
        assert row["test"] == "fisher"
    else:
        expected = proportions_ztest([k1, k2], [n1, n2])[1]
        assert row["test"] == "z"
    assert row["p_value"] == pytest.approx(expected, rel=1e-12)
    assert row["p_adjusted"] == pytest.approx(expected, rel=1e-12)  # one comparison
    assert bool(row["significant"]) == (expected < 0.05)
    assert bool(row["small_sample"]) == (min(n1, n2) < 30)


def test_issue_example_60_vs_50_on_few_and_many_calls():
    few = compare_rates(make_calls({"A": (6, 10), "B": (5, 10)}), baseline="B").iloc[0]
    many = compare_rates(make_calls({"A": (720, 1200), "B": (600, 1200)}),
                         baseline="B").iloc[0]
    assert few["small_sample"] and not few["significant"]
    assert not many["small_sample"] and many["significant"]
    assert many["p_value"] == pytest.approx(8.494052e-07, rel=1e-6)


def test_compare_rates_each_against_all_others_with_holm():
    groups = {"A": (7, 12), "B": (5, 12), "C": (1, 4), "D": (60, 100)}
    calls = make_calls(groups)
    result = compare_rates(calls)
    assert result["agent_id"].tolist() == ["A", "B", "C", "D"]
    assert (result["baseline"] == "all other calls").all()
    total_events, total_known = 73, 128
    p_raw = []
    for group, (k, n) in groups.items():
        row = rate_row(result, group)
        k2, n2 = total_events - k, total_known - n
        assert (row["baseline_events"], row["baseline_known"]) == (k2, n2)
        low, high = confint_proportions_2indep(k, n, k2, n2, method="newcomb")
        assert (row["diff_low"], row["diff_high"]) == pytest.approx((low, high), abs=1e-12)
        if stats.min_expected_count(k, n, k2, n2) < 5:
            expected = scipy_stats.fisher_exact([[k, n - k], [k2, n2 - k2]]).pvalue
        else:
            expected = proportions_ztest([k, k2], [n, n2])[1]
        assert row["p_value"] == pytest.approx(expected, rel=1e-12)
        p_raw.append(expected)
    assert result["test"].tolist() == ["z", "z", "fisher", "z"]
    holm = multipletests(p_raw, method="holm")[1]
    assert result["p_adjusted"].to_numpy("float64") == pytest.approx(holm, rel=1e-12)
    assert result["significant"].tolist() == list(holm < 0.05)


def test_unknown_outcomes_are_counted_not_in_the_denominator():
    calls = make_calls({"A": (3, 4, 2), "B": (1, 5, 1)})
    row = compare_rates(calls, baseline="B").iloc[0]
    assert (row["calls"], row["known"], row["unknown"], row["events"]) == (6, 4, 2, 3)
    assert (row["baseline_known"], row["baseline_events"]) == (5, 1)
    assert row["rate"] == pytest.approx(0.75) and row["baseline_rate"] == pytest.approx(0.2)
    assert row["p_value"] == pytest.approx(
        scipy_stats.fisher_exact([[3, 1], [1, 4]]).pvalue)


def test_derived_outcome_negative_sentiment():
    sentiment = {"A": ["negative", "negative", "neutral", None],
                 "B": ["positive", "negative", "neutral", "neutral", "positive"]}
    calls = make_calls({"A": (2, 4), "B": (3, 5)}, sentiment=sentiment)
    values = outcome_values(calls, "negative_sentiment")
    assert values.tolist()[:4] == [True, True, False, pd.NA]
    row = compare_rates(calls, "negative_sentiment", baseline="B").iloc[0]
    # A: 2 negative of 3 labelled (1 unknown); B: 1 of 5.
    assert (row["events"], row["known"], row["unknown"]) == (2, 3, 1)
    assert (row["baseline_events"], row["baseline_known"]) == (1, 5)
    assert row["test"] == "fisher"
    assert row["p_value"] == pytest.approx(scipy_stats.fisher_exact([[2, 1], [1, 4]]).pvalue)
    missed = compare_rates(calls, "goal_missed", baseline="B").iloc[0]
    assert (missed["events"], missed["baseline_events"]) == (2, 2)


def test_outcome_as_a_boolean_series_and_errors():
    calls = make_calls({"A": (2, 4), "B": (3, 5)}, durations={"A": [10, 400, 500, 20]})
    long = calls["duration_s"] > 300
    row = compare_rates(calls, long.rename("long_call"), baseline="B").iloc[0]
    assert (row["events"], row["known"], row["baseline_known"]) == (2, 4, 0)
    assert pd.isna(row["diff"]) and pd.isna(row["p_value"]) and pd.isna(row["test"])
    with pytest.raises(ValueError, match="unknown outcome 'happy'.*negative_sentiment"):
        compare_rates(calls, "happy")
    with pytest.raises(ValueError, match="baseline 'Z' is not a group; groups are: A, B"):
        compare_rates(calls, baseline="Z")
    with pytest.raises(KeyError, match="no column"):
        compare_rates(calls, by="team")


def test_compare_rates_with_labels_names_rows_and_baseline():
    ids = {"A": "11111111-1111-1111-1111-111111111111",
           "B": "22222222-2222-2222-2222-222222222222"}
    calls = make_calls({ids["A"]: (7, 12), ids["B"]: (5, 12)})
    names = {ids["A"]: "Ava", ids["B"]: "Ben"}
    result = compare_rates(calls, baseline="Ben", labels=names)
    assert list(result.columns[:2]) == ["agent", "agent_id"]
    assert result["agent"].tolist() == ["Ava"] and result["baseline"].tolist() == ["Ben"]
    assert result["diff"].iloc[0] == pytest.approx(2 / 12)


def test_compare_rates_small_groups_and_empty_categories():
    calls = make_calls({"A": (20, 40), "B": (25, 40), "x": (0, 1)})
    result = compare_rates(calls)
    assert result["small_sample"].tolist() == [False, False, True]
    assert rate_row(result, "x")["test"] == "fisher"
    assert compare_rates(calls, min_known=50)["small_sample"].all()
    by_sentiment = compare_rates(
        make_calls({"A": (2, 3)}, sentiment={"A": ["neutral", "neutral", "negative"]}),
        by="sentiment")
    assert by_sentiment["sentiment"].astype(str).tolist() == ["negative", "neutral",
                                                              "positive"]
    positive = by_sentiment.iloc[2]
    assert positive["calls"] == 0 and pd.isna(positive["rate"]) and pd.isna(
        positive["p_adjusted"])
    # The NA row stays out of Holm's family: two p-values, each adjusted x2 at most.
    assert by_sentiment["p_adjusted"].iloc[:2].tolist() == pytest.approx(
        multipletests(by_sentiment["p_value"].iloc[:2].tolist(), method="holm")[1])


def test_compare_rates_on_no_calls():
    result = compare_rates(schema.empty_frame("calls"))
    assert result.empty and {"diff", "p_adjusted", "small_sample"} <= set(result.columns)


# --- compare_durations --------------------------------------------------------------

def test_compare_durations_hand_computed():
    calls = make_calls({"A": (3, 3), "B": (3, 3)},
                       durations={"A": [10, 20, 30], "B": [40, 50, 60]})
    row = compare_durations(calls, baseline="B", n_resamples=999).iloc[0]
    assert (row["median"], row["baseline_median"], row["diff"]) == (20.0, 50.0, -30.0)
    # Mann-Whitney: U = 0, the most extreme of C(6, 3) = 20 orderings, two-sided 2/20.
    assert row["p_value"] == pytest.approx(0.1)
    assert row["diff_low"] >= -50 and row["diff_high"] <= -10  # medians of resamples
    assert row["small_sample"]


def test_compare_durations_bootstrap_is_seeded_and_matches_scipy():
    rng = np.random.default_rng(3)
    a = np.round(rng.gamma(4, 40, 80))
    b = np.round(rng.gamma(4, 30, 60))
    calls = make_calls({"A": (80, 80), "B": (60, 60)}, durations={"A": a, "B": b})
    result = compare_durations(calls, baseline="B", n_resamples=2000, seed=11)
    row = result.iloc[0]
    expected = scipy_stats.bootstrap(
        (a, b), lambda x, y, axis: np.median(x, axis=axis) - np.median(y, axis=axis),
        n_resamples=2000, vectorized=True, method="percentile", batch=1000,
        rng=np.random.default_rng(11)).confidence_interval
    assert (row["diff_low"], row["diff_high"]) == pytest.approx((expected.low,
                                                                 expected.high))
    assert row["diff"] == pytest.approx(np.median(a) - np.median(b))
    assert row["p_value"] == pytest.approx(
        scipy_stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    again = compare_durations(calls, baseline="B", n_resamples=2000, seed=11)
    assert again.equals(result)


def test_compare_durations_against_all_others_and_degenerate():
    calls = make_calls({"A": (2, 2), "B": (2, 2), "C": (1, 1)},
                       durations={"A": [100, 100], "B": [50, 50], "C": [70]})
    result = compare_durations(calls, n_resamples=500)
    a, c = rate_row(result, "A"), rate_row(result, "C")
    assert (a["median"], a["baseline_median"], a["diff"]) == (100.0, 50.0, 50.0)
    assert a["baseline_known"] == 3
    assert pd.isna(c["diff_low"]) and c["diff"] == pytest.approx(70 - 75)  # 1 duration
    b_vs_a = compare_durations(calls, baseline="A", n_resamples=500)
    row = rate_row(b_vs_a, "B")
    assert (row["diff_low"], row["diff_high"]) == (-50.0, -50.0)  # no spread at all
    holm = multipletests(result["p_value"].to_numpy("float64"), method="holm")[1]
    assert result["p_adjusted"].to_numpy("float64") == pytest.approx(holm)


# --- compare_periods ----------------------------------------------------------------

@pytest.fixture
def two_weeks():
    """Week of 2025-07-07: goal 5/12, negative 3/5; week of 07-14: 7/12, 1/4."""
    before = make_calls({"A": (5, 12)}, start="2025-07-08T09:00:00Z",
                        sentiment={"A": ["negative"] * 3 + ["neutral"] * 2},
                        durations={"A": [100, 110, 120, 130]})
    now = make_calls({"A": (7, 12)}, start="2025-07-16T09:00:00Z",
                     sentiment={"A": ["negative"] + ["positive"] * 3},
                     durations={"A": [150, 160, 170]})
    now["call_id"] = now["call_id"] + "n"
    return pd.concat([before, now], ignore_index=True)


def test_compare_periods_this_week_against_last(two_weeks):
    result = compare_periods(two_weeks, n_resamples=999)
    assert result.attrs["current"] == (pd.Timestamp("2025-07-14", tz="UTC"),
                                       pd.Timestamp("2025-07-21", tz="UTC"))
    assert result.attrs["previous"][0] == pd.Timestamp("2025-07-07", tz="UTC")
    rows = result.set_index("metric")
    assert rows.loc["calls", ["current", "previous", "delta"]].tolist() == [12, 12, 0]
    assert pd.isna(rows.loc["calls", "p_value"])
    goal = rows.loc["goal rate"]
    assert goal["delta"] == pytest.approx(2 / 12) and goal["test"] == "z"
    assert (goal["delta_low"], goal["delta_high"]) == pytest.approx(
        confint_proportions_2indep(7, 12, 5, 12, method="newcomb"), abs=1e-12)
    assert goal["p_value"] == pytest.approx(proportions_ztest([7, 5], [12, 12])[1])
    negative = rows.loc["negative sentiment"]
    assert (negative["current"], negative["previous"]) == pytest.approx((1 / 4, 3 / 5))
    assert negative["test"] == "fisher"
    assert negative["p_value"] == pytest.approx(
        scipy_stats.fisher_exact([[1, 3], [3, 2]]).pvalue)
    duration = rows.loc["median duration (s)"]
    assert (duration["current"], duration["previous"], duration["delta"]) == (
        160.0, 115.0, 45.0)
    assert duration["p_value"] == pytest.approx(scipy_stats.mannwhitneyu(
        [150, 160, 170], [100, 110, 120, 130]).pvalue)
    tested = result["p_value"].notna().to_numpy(bool)
    holm = multipletests(result["p_value"][tested].to_numpy("float64"), method="holm")[1]
    assert result["p_adjusted"][tested].to_numpy("float64") == pytest.approx(holm)
    assert rows["current_n"].tolist() == [12, 12, 4, 3]
    assert rows["small_sample"].all()


def test_compare_periods_explicit_windows_and_by(two_weeks):
    explicit = compare_periods(two_weeks, current=("2025-07-14", "2025-07-21"),
                               previous="2025-07-09", n_resamples=999)
    default = compare_periods(two_weeks, n_resamples=999)
    assert explicit.equals(default)
    by = compare_periods(two_weeks, by="agent_id", n_resamples=999)
    assert by["agent_id"].tolist() == ["A"] * 4
    assert by.drop(columns="agent_id").equals(default)
    with pytest.raises(ValueError, match="not before"):
        compare_periods(two_weeks, current=("2025-07-21", "2025-07-14"))


# --- p_chart ------------------------------------------------------------------------

@pytest.fixture
def weekly():
    """Weeks from 2025-07-07: 10/20, 10/20, none, 21/25, 30/100."""
    weeks = [("2025-07-07", 10, 20), ("2025-07-14", 10, 20), ("2025-07-28", 21, 25),
             ("2025-08-04", 30, 100)]
    frames = []
    for day, events, known in weeks:
        frame = make_calls({"A": (events, known)}, start=f"{day}T12:00:00Z")
        frame["call_id"] = frame["call_id"] + day
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_p_chart_limits_from_a_baseline_hand_computed(weekly):
    chart = p_chart(weekly, "W", baseline=("2025-07-07", "2025-07-21"))
    assert chart["known"].tolist() == [20, 20, 0, 25, 100]
    assert chart["in_baseline"].tolist() == [True, True, False, False, False]
    assert chart["center"].to_numpy("float64") == pytest.approx([0.5] * 5)
    se = np.sqrt(0.25 / np.array([20, 20, 25, 100]))
    ucl = chart["ucl"].to_numpy("float64", na_value=np.nan)
    lcl = chart["lcl"].to_numpy("float64", na_value=np.nan)
    assert ucl[[0, 1, 3, 4]] == pytest.approx(0.5 + 3 * se)
    assert lcl[[0, 1, 3, 4]] == pytest.approx(0.5 - 3 * se)
    assert np.isnan(ucl[2]) and pd.isna(chart["rate"].iloc[2])
    assert chart["out_of_limits"].tolist() == [False, False, False, True, True]
    assert chart["signal"].tolist()[3:] == ["above", "below"]
    assert pd.isna(chart["signal"].iloc[0])
    assert chart.equals(p_chart(weekly, baseline=2))


def test_p_chart_default_baseline_and_groups(weekly):
    chart = p_chart(weekly)
    assert chart["center"].iloc[0] == pytest.approx(71 / 165)
    other = make_calls({"B": (1, 4)}, start="2025-07-07T12:00:00Z")
    other["call_id"] = "b" + other["call_id"]
    both = p_chart(pd.concat([weekly, other], ignore_index=True), by="agent_id",
                   baseline=2)
    centers = both.groupby("agent_id")["center"].first()
    assert centers.to_dict() == pytest.approx({"A": 0.5, "B": 0.25})
    assert (both["agent_id"] == "B").sum() == 5  # every week, empty ones included
    with pytest.raises(ValueError, match="baseline"):
        p_chart(weekly, baseline="first month")


# --- calls_needed -------------------------------------------------------------------

@pytest.mark.parametrize("rates, pooled, arcsine", [
    ((0.5, 0.6), 388, 388), ((0.55, 0.7), 163, 162), ((0.25, 0.55), 41, 41),
    ((0.05, 0.1), 435, 424)])
def test_calls_needed_rounds_statsmodels_up(rates, pooled, arcsine):
    a, b = rates
    assert calls_needed(a, b) == pooled
    assert pooled == int(np.ceil(samplesize_proportions_2indep_onetail(b - a, a, 0.8)))
    assert calls_needed(a, b, method="arcsine") == arcsine
    assert arcsine == int(np.ceil(NormalIndPower().solve_power(
        proportion_effectsize(b, a), alpha=0.05, power=0.8)))
    assert calls_needed(b, a) == pooled  # symmetric in the two rates at ratio 1


def test_calls_needed_more_power_needs_more_calls():
    assert calls_needed(0.5, 0.6, power=0.9) == int(np.ceil(
        samplesize_proportions_2indep_onetail(0.1, 0.5, 0.9)))
    assert calls_needed(0.5, 0.6, power=0.9) > calls_needed(0.5, 0.6)
    assert calls_needed(0.5, 0.6, alpha=0.01) > calls_needed(0.5, 0.6)


# --- labels -------------------------------------------------------------------------

def test_read_labels_from_csv(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("\ufeffid, name ,team\n a1 , Ava ,x\nb2,Ben,y\n,Nobody,z\nc3,,z\n"
                    "a1,Ava,x\n", encoding="utf-8")
    assert read_labels(path) == {"a1": "Ava", "b2": "Ben"}
    assert read_labels(str(path)) == {"a1": "Ava", "b2": "Ben"}
    assert read_labels({"a1": "Ava", 7: 8}) == {"a1": "Ava", "7": "8"}
    assert read_labels(None) == {}


@pytest.mark.parametrize("content, message", [
    ("agent,label\na,b\n", "expected a header with columns id,name; found agent, label"),
    ("id,name\na,Ava\na,Ada\n", "id 'a' has more than one name"),
    ("", "not a readable CSV"),
])
def test_read_labels_errors(tmp_path, content, message):
    path = tmp_path / "names.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelsError, match=message):
        read_labels(path)
    with pytest.raises(LabelsError, match="no such file"):
        read_labels(tmp_path / "none.csv")


def test_label_for_agrees_with_chart_labels():
    uuid = "11e5fbeb-4706-5a65-b52c-5393c451eb5e"
    values = [uuid, "A", pd.NA, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", "a-b-c-d-e"]
    names = {uuid: "Ava"}
    assert [label_for(v, names) for v in values] == [
        "Ava", "A", "(missing)", "xxxxxxxx…", "a-b-c-d-e"]
    assert [label_for(v, names) for v in values] == [plots.group_label(v, names)
                                                     for v in values]


def test_apply_labels_inserts_name_columns():
    table = pd.DataFrame({"workflow_id": pd.array(["w1", "w2"], dtype="string"),
                          "agent_id": pd.array(["a1", pd.NA], dtype="string"),
                          "calls": [3, 4]})
    named = apply_labels(table, {"a1": "Ava", "w1": "Viewings"})
    assert list(named.columns) == ["workflow", "workflow_id", "agent", "agent_id", "calls"]
    assert named["agent"].tolist() == ["Ava", "(missing)"]
    assert named["workflow"].tolist() == ["Viewings", "w2"]
    assert list(table.columns) == ["workflow_id", "agent_id", "calls"]  # not modified
    tester = apply_labels(table.assign(tester="t"), {"t": "T"}, "tester")
    assert tester["tester_label"].tolist() == ["T", "T"]
    with pytest.raises(KeyError, match="no column"):
        apply_labels(table, {}, "team")


def test_sample_names_file_names_every_sample_agent_and_workflow():
    names = read_labels(ROOT / "data" / "sample_names.csv")
    for agent in sample.AGENTS.values():
        assert names[agent.id] == agent.persona
    assert set(sample.WORKFLOWS.values()) <= set(names)
    assert names[sample.EXAMPLE_LOG["agent_id"]] == "Vendor example"


# --- plots --------------------------------------------------------------------------

def test_forest_plot_draws_differences_and_marks_significance():
    calls = make_calls({"A": (720, 1200), "B": (600, 1200), "C": (6, 10), "x": (0, 1)})
    ax = Figure().subplots()
    assert plots.plot_rate_comparison(calls, baseline="B", labels={"A": "Ava"}, ax=ax) is ax
    table = compare_rates(calls, baseline="B")
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Ava (n=1200)", "C (n=10), small sample", "x (n=1), small sample"]
    points = [line for line in ax.lines if line.get_marker() == "o"]
    assert [line.get_xdata()[0] for line in points] == pytest.approx(
        (table["diff"] * 100).tolist())
    filled = [mcolors.to_hex(line.get_markerfacecolor()) != "#ffffff" for line in points]
    assert filled == table["significant"].tolist() == [True, False, False]
    assert "percentage points" in ax.get_xlabel() and "against B" in ax.get_title()
    assert "p (Holm) < 0.001" in [t.get_text() for t in ax.texts]


def test_p_chart_plot_marks_points_outside_the_limits(weekly):
    ax = Figure().subplots()
    assert plots.plot_p_chart(weekly, baseline=2, ax=ax) is ax
    rate_line = [line for line in ax.lines if line.get_marker() == "o"][0]
    assert rate_line.get_ydata()[[0, 3, 4]] == pytest.approx([0.5, 0.84, 0.3])
    flagged = np.asarray(ax.collections[-1].get_offsets())
    assert flagged[:, 1].tolist() == pytest.approx([0.84, 0.3])
    assert "week starting (UTC)" in ax.get_xlabel()


@pytest.mark.parametrize("chart", [plots.plot_rate_comparison, plots.plot_p_chart])
def test_comparison_charts_on_no_calls(chart):
    ax = chart(schema.empty_frame("calls"), ax=Figure().subplots())
    assert [t.get_text() for t in ax.texts] == ["No calls"]


# --- report and command line --------------------------------------------------------

def test_report_has_the_comparison_section(tmp_path):
    calls_a = [make_log(id=f"a{i}", agent_id="A", test_result__goal_achieved="yes")
               for i in range(30)]
    calls_b = [make_log(id=f"b{i}", agent_id="B",
                        test_result__goal_achieved="no" if i % 2 else "yes")
               for i in range(30)]
    logs = load_logs(envelope(calls_a + calls_b))
    report = write_report(logs, tmp_path / "out", labels={"A": "Ava"})
    assert Path("charts/goal_rate_differences.png") in report.files
    page = report.index.read_text(encoding="utf-8")
    assert "<h2>Comparing agents</h2>" in page and 'id="goal_rate_differences"' in page
    assert "(goal rate: Ava, B)" in page
    table = pd.read_csv(report.folder / "tables/goal_rate_comparison.csv")  # plain numbers
    assert table["agent"].tolist() == ["Ava", "B"]
    assert table["significant"].tolist() == [True, True]
    # 30/30 against 15/30: 50 points; smallest expected count 7.5, so the z test
    assert table["diff"].tolist() == pytest.approx([0.5, -0.5])
    assert table["test"].tolist() == ["z", "z"]
    assert "<th>difference (pp)</th>" in page and "<td class=num>50.0</td>" in page


def test_no_comparison_section_for_one_agent():
    logs = load_logs(envelope([make_log(id="a", agent_id="A")]))
    assert comparison_section(logs, None) is None


def test_cli_report_names(tmp_path, capsys):
    export = tmp_path / "export.json"
    logs = [make_log(id=f"c{i}", agent_id="A" if i < 3 else "B",
                     test_result__goal_achieved="yes" if i % 2 else "no") for i in range(6)]
    export.write_text(json.dumps(envelope(logs)), encoding="utf-8")
    names = tmp_path / "names.csv"
    names.write_text("id,name\nA,Ava\nB,Ben\n", encoding="utf-8")
    out = tmp_path / "rep"
    assert main(["report", str(export), "--out", str(out), "--names", str(names)]) == 0
    assert capsys.readouterr().err == ""
    table = pd.read_csv(out / "tables/goal_rate_comparison.csv")
    assert table["agent"].tolist() == ["Ava", "Ben"]
    assert table["small_sample"].tolist() == [True, True]
    assert main(["report", str(export), "--out", str(out), "--names",
                 str(tmp_path / "none.csv")]) == 1
    assert "none.csv: no such file" in capsys.readouterr().err


def test_readme_lists_the_comparison_functions():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Comparing agents", 1)[1]
    for name in ("compare_rates", "compare_durations", "compare_periods", "p_chart",
                 "calls_needed", "read_labels", "apply_labels", "plot_rate_comparison",
                 "plot_p_chart"):
        assert f"`{name}" in section, name
    assert "report --names FILE.csv" in section


def test_sample_names_function_matches_the_file():
    assert sample.sample_names() == read_labels(ROOT / "data" / "sample_names.csv")


def test_bootstrap_of_large_samples_counts_distinct_values():
    """Large sides use counted resamples: same distribution as scipy's resampling."""
    from scipy.stats import bootstrap

    from malakai_analytics.compare import LARGE_SAMPLE, _bootstrap_medians, _median_difference

    rng = np.random.default_rng(3)
    x = rng.integers(30, 400, size=6000).astype(float)
    y = rng.integers(20, 380, size=LARGE_SAMPLE + 500).astype(float)
    diff, low, high, p = _median_difference(x, y, 0.95, 4000, seed=1)
    assert diff == np.median(x) - np.median(y)
    reference = bootstrap((x, y), lambda a, b, axis: np.median(a, axis=axis)
                          - np.median(b, axis=axis), n_resamples=4000, vectorized=True,
                          paired=False, method="percentile", batch=500,
                          rng=np.random.default_rng(1)).confidence_interval
    # Two Monte Carlo runs of one distribution: equal within a few seconds.
    assert low == pytest.approx(reference.low, abs=3.0)
    assert high == pytest.approx(reference.high, abs=3.0)
    assert p == pytest.approx(scipy_stats.mannwhitneyu(x, y).pvalue)
    # The counted medians are medians of real resamples: odd and even sizes, by hand.
    assert _bootstrap_medians(np.array([5.0]), 3, rng).tolist() == [5.0, 5.0, 5.0]
    medians = _bootstrap_medians(np.array([1.0, 2.0]), 2000, np.random.default_rng(0))
    assert set(np.unique(medians)) <= {1.0, 1.5, 2.0}
    assert np.mean(medians == 1.5) == pytest.approx(0.5, abs=0.05)
