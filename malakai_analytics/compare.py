"""Honest comparisons: differences with intervals and tests, periods, control charts.

A goal rate of 60% against 50% means nothing on 12 test calls and a lot on 1,200.
Every comparison here therefore comes with its uncertainty (an interval of the
difference), a two-sided test, the p-value adjusted for how many comparisons the table
makes (Holm), and a `small_sample` flag.

- `compare_rates`: a boolean outcome per group against a baseline group or against all
  other calls (Newcombe interval; Fisher's exact test when an expected count is under
  5, else the pooled two-proportion z test).
- `compare_durations`: difference of medians, seeded bootstrap interval, rank test.
- `compare_periods`: the KPIs of two date windows side by side (this week vs last).
- `p_chart`: goal rate per day or week with control limits from a baseline window.
- `calls_needed`: test calls per agent needed to detect a difference.

Outcomes are a boolean column of `calls` or one of `OUTCOMES`. Calls whose outcome is
missing are left out of every denominator and counted in `unknown`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import metrics, stats
from .labels import apply_labels, label_for, read_labels
from .schema import SENTIMENTS

logger = logging.getLogger(__name__)

#: Derived outcomes `compare_rates` and `p_chart` understand, besides boolean columns.
OUTCOMES = {
    "goal_achieved": "the call reached its goal (the goal_achieved column)",
    "goal_missed": "the call did not reach its goal (NA when goal_achieved is NA)",
    "negative_sentiment": "sentiment is negative (NA when sentiment is NA)",
    "neutral_sentiment": "sentiment is neutral (NA when sentiment is NA)",
    "positive_sentiment": "sentiment is positive (NA when sentiment is NA)",
}

#: Groups with fewer known outcomes than this (on either side) are flagged small_sample.
MIN_KNOWN = 30

ALL_OTHERS = "all other calls"

Outcome = str | pd.Series
Window = tuple[Any, Any] | str | pd.Timestamp | None


# --- outcomes -----------------------------------------------------------------------

def outcome_values(calls: pd.DataFrame, outcome: Outcome = "goal_achieved") -> pd.Series:
    """The outcome of each call as a nullable boolean Series (NA: unknown).

    Args:
        calls: the `calls` frame.
        outcome: a boolean column of `calls`, a name from `OUTCOMES`, or a boolean
            Series aligned with `calls` (for example `calls["duration_s"] > 300`).

    Returns:
        A "boolean" Series on the index of `calls`, named after the outcome.

    Raises:
        ValueError: the outcome is neither a boolean column nor a known derived one.
    """
    if isinstance(outcome, pd.Series):
        if not outcome.index.equals(calls.index):
            raise ValueError("an outcome Series must have the index of calls")
        values = outcome.astype("boolean")
        return values.rename(outcome.name if outcome.name is not None else "outcome")
    if outcome in calls.columns and outcome != "sentiment":
        column = calls[outcome]
        if pd.api.types.is_bool_dtype(column.dtype):
            return column.astype("boolean").rename(outcome)
    if outcome == "goal_missed":
        return (~calls["goal_achieved"].astype("boolean")).rename(outcome)
    label = outcome.removesuffix("_sentiment") if isinstance(outcome, str) else None
    if label in SENTIMENTS and outcome.endswith("_sentiment"):
        sentiment = calls["sentiment"]
        values = (sentiment == label).astype("boolean").mask(sentiment.isna())
        return values.rename(outcome)
    booleans = [c for c in calls.columns if pd.api.types.is_bool_dtype(calls[c].dtype)]
    raise ValueError(f"unknown outcome {outcome!r}: use a boolean column "
                     f"({', '.join(booleans) or 'none'}) or one of {', '.join(OUTCOMES)}")


def _outcome_name(outcome: Outcome) -> str:
    if isinstance(outcome, pd.Series):
        return str(outcome.name) if outcome.name is not None else "outcome"
    return str(outcome)


# --- rates --------------------------------------------------------------------------

def _group_counts(calls: pd.DataFrame, values: pd.Series, by: str) -> pd.DataFrame:
    """calls, known and events per group (empty categories kept, NA its own group)."""
    frame = pd.DataFrame({
        by: calls[by],
        "_known": values.notna().astype("int64"),
        "_events": values.fillna(False).astype("int64"),
    })
    grouped = frame.groupby(by, observed=False, dropna=False, sort=True)
    table = grouped.agg(calls=("_known", "size"), known=("_known", "sum"),
                        events=("_events", "sum")).reset_index()
    return table.astype({"calls": "int64", "known": "int64", "events": "int64"})


def _resolve_baseline(baseline, groups: pd.Series, labels: Mapping) -> Any:
    """The group value `baseline` names: a value of `by`, or a name in `labels`."""
    present = groups.dropna().tolist()
    if baseline in present:
        return baseline
    named = [value for value in present if labels.get(value) == baseline]
    if len(named) == 1:
        return named[0]
    shown = ", ".join(label_for(value, labels) for value in present)
    raise ValueError(f"baseline {baseline!r} is not a group; groups are: {shown}")


def _finish(table: pd.DataFrame, p_values: np.ndarray, alpha: float) -> pd.DataFrame:
    adjusted = stats.holm_adjust(p_values)
    table["p_value"] = pd.array(p_values, dtype="Float64")
    table["p_adjusted"] = pd.array(adjusted, dtype="Float64")
    significant = pd.array(adjusted < alpha, dtype="boolean")
    significant[np.isnan(adjusted)] = pd.NA
    table["significant"] = significant
    return table


def compare_rates(
    calls: pd.DataFrame,
    outcome: Outcome = "goal_achieved",
    by: str = "agent_id",
    baseline: Any = None,
    *,
    confidence: float = 0.95,
    alpha: float = 0.05,
    min_known: int = MIN_KNOWN,
    labels: Mapping | str | None = None,
) -> pd.DataFrame:
    """Rate of a boolean outcome per group, each against a baseline, with honest stats.

    Each group is compared with the `baseline` group, or, when none is given, with all
    other calls (calls whose group value is missing form their own group). The
    difference gets Newcombe's hybrid score interval; the two-sided test is Fisher's
    exact test when the smallest expected count of the 2x2 table is under 5, else the
    pooled two-proportion z test; p-values are Holm-adjusted over the rows of the table.

    Args:
        calls: the `calls` frame.
        outcome: a boolean column or a name from `OUTCOMES` ("goal_achieved",
            "goal_missed", "negative_sentiment", ...), or a boolean Series.
        by: column to group by (agent_id, workflow_id, tester_name, ...).
        baseline: group value (or, with `labels`, its name) to compare against; its
            own row is left out. None compares each group with all other calls.
        confidence: level of the difference interval.
        alpha: level of the `significant` flag (on the Holm-adjusted p-value).
        min_known: a side with fewer known outcomes makes the row `small_sample`.
        labels: id -> name mapping or CSV path; adds a name column (see
            `apply_labels`) and names the baseline.

    Returns:
        One row per compared group: [name column,] the `by` column, then
        calls, known (outcome known), unknown, events (outcome true), rate
        (events / known), baseline (what the group is compared with: the baseline's
        name or id, or "all other calls"), baseline_known, baseline_events,
        baseline_rate, diff (rate - baseline_rate), diff_low, diff_high (Newcombe),
        test ("fisher" or "z"; NA when a side has no known outcome), p_value
        (two-sided), p_adjusted (Holm), significant (p_adjusted < alpha),
        small_sample (known or baseline_known under `min_known`).
    """
    if by not in calls.columns:
        raise KeyError(f"no column {by!r} to group by; columns are {list(calls.columns)}")
    mapping = read_labels(labels)
    values = outcome_values(calls, outcome)
    table = _group_counts(calls, values, by)
    if baseline is None:
        base_known = table["known"].sum() - table["known"]
        base_events = table["events"].sum() - table["events"]
        table["baseline"] = ALL_OTHERS
    else:
        value = _resolve_baseline(baseline, table[by], mapping)
        is_base = (table[by] == value).fillna(False).to_numpy(bool)
        base_known = int(table.loc[is_base, "known"].iloc[0])
        base_events = int(table.loc[is_base, "events"].iloc[0])
        table = table[~is_base].reset_index(drop=True)
        table["baseline"] = label_for(value, mapping) if mapping else str(value)
    k1, n1 = table["events"].to_numpy("float64"), table["known"].to_numpy("float64")
    k2 = np.broadcast_to(np.asarray(base_events, dtype="float64"), k1.shape)
    n2 = np.broadcast_to(np.asarray(base_known, dtype="float64"), k1.shape)
    result = stats.compare_proportions(k1, n1, k2, n2, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n1 > 0, k1 / n1, np.nan)
        base_rate = np.where(n2 > 0, k2 / n2, np.nan)
    out = pd.DataFrame({
        by: table[by],
        "calls": pd.array(table["calls"], dtype="Int64"),
        "known": pd.array(table["known"], dtype="Int64"),
        "unknown": pd.array(table["calls"] - table["known"], dtype="Int64"),
        "events": pd.array(table["events"], dtype="Int64"),
        "rate": pd.array(rate, dtype="Float64"),
        "baseline": table["baseline"].astype("string"),
        "baseline_known": pd.array(n2.astype("int64"), dtype="Int64"),
        "baseline_events": pd.array(k2.astype("int64"), dtype="Int64"),
        "baseline_rate": pd.array(base_rate, dtype="Float64"),
        "diff": pd.array(result["diff"], dtype="Float64"),
        "diff_low": pd.array(result["low"], dtype="Float64"),
        "diff_high": pd.array(result["high"], dtype="Float64"),
        "test": pd.Series(result["test"], dtype="string").replace("", pd.NA),
    })
    out = _finish(out, result["p_value"], alpha)
    out["small_sample"] = pd.array((n1 < min_known) | (n2 < min_known), dtype="boolean")
    out.attrs = {"outcome": _outcome_name(outcome), "by": by, "confidence": confidence,
                 "alpha": alpha, "baseline": out["baseline"].iloc[0] if len(out) else
                 (ALL_OTHERS if baseline is None else str(baseline))}
    logger.debug("compared %s by %s over %d groups", _outcome_name(outcome), by, len(out))
    return apply_labels(out, mapping, [by]) if labels is not None else out


# --- durations ----------------------------------------------------------------------

#: From this many durations a side, the bootstrap draws counts of distinct values
#: (a multinomial) instead of resampling every value: the same resampling distribution,
#: O(distinct values) per draw instead of O(calls). 100,000 calls: 80 s -> about 1 s.
LARGE_SAMPLE = 2000
MAX_DISTINCT = 20_000


def _bootstrap_medians(values: np.ndarray, n_resamples: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Medians of `n_resamples` resamples (with replacement, same size) of `values`."""
    distinct, counts = np.unique(values, return_counts=True)
    n = len(values)
    low_rank, high_rank = (n - 1) // 2, n // 2  # 0-based ranks of the middle values
    medians = np.empty(n_resamples)
    for start in range(0, n_resamples, 1000):  # batches bound the memory
        size = min(1000, n_resamples - start)
        cumulative = np.cumsum(rng.multinomial(n, counts / n, size=size), axis=1)
        low = distinct[np.argmax(cumulative > low_rank, axis=1)]
        high = distinct[np.argmax(cumulative > high_rank, axis=1)]
        medians[start:start + size] = (low + high) / 2
    return medians


def _counted_bootstrap(x: np.ndarray, y: np.ndarray, confidence: float, n_resamples: int,
                       seed: int) -> tuple[float, float]:
    """Percentile interval of median(x) - median(y) from counted resamples."""
    rng = np.random.default_rng(seed)
    differences = _bootstrap_medians(x, n_resamples, rng) - _bootstrap_medians(
        y, n_resamples, rng)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return float(low), float(high)


def _median_difference(x: np.ndarray, y: np.ndarray, confidence: float, n_resamples: int,
                       seed: int) -> tuple[float, float, float, float]:
    """(diff, low, high, p) for median(x) - median(y); NaN where a side is too small."""
    from scipy.stats import bootstrap, mannwhitneyu

    if len(x) == 0 or len(y) == 0:
        return np.nan, np.nan, np.nan, np.nan
    diff = float(np.median(x) - np.median(y))
    p = float(mannwhitneyu(x, y, alternative="two-sided").pvalue)
    if len(x) < 2 or len(y) < 2:
        return diff, np.nan, np.nan, p

    if min(len(x), len(y)) >= LARGE_SAMPLE and max(
            len(np.unique(x)), len(np.unique(y))) <= MAX_DISTINCT:
        low, high = _counted_bootstrap(x, y, confidence, n_resamples, seed)
        return diff, low, high, p

    def statistic(a, b, axis):
        return np.median(a, axis=axis) - np.median(b, axis=axis)

    result = bootstrap((x, y), statistic, n_resamples=n_resamples, vectorized=True,
                       paired=False, confidence_level=confidence, method="percentile",
                       batch=min(n_resamples, 1000), rng=np.random.default_rng(seed))
    interval = result.confidence_interval
    return diff, float(interval.low), float(interval.high), p


def compare_durations(
    calls: pd.DataFrame,
    by: str = "agent_id",
    baseline: Any = None,
    *,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
    alpha: float = 0.05,
    min_known: int = MIN_KNOWN,
    labels: Mapping | str | None = None,
) -> pd.DataFrame:
    """Median call duration per group against a baseline group or all other calls.

    The difference of medians gets a percentile bootstrap interval
    (`scipy.stats.bootstrap`, each side resampled on its own, `n_resamples` draws from
    `numpy.random.default_rng(seed)`, a fresh generator per row, so the same data always
    give the same interval); the two-sided test is the Mann-Whitney U rank test
    (`scipy.stats.mannwhitneyu`: exact for small samples without ties, else the normal
    approximation with tie and continuity correction). Calls with no known duration are
    left out.

    Args:
        calls: the `calls` frame.
        by: column to group by.
        baseline: group value (or its name in `labels`) to compare against; None
            compares each group with all other calls.
        confidence: level of the bootstrap interval.
        n_resamples: bootstrap draws.
        seed: seed of the bootstrap generator.
        alpha: level of the `significant` flag.
        min_known: fewer known durations on either side make the row `small_sample`.
        labels: id -> name mapping or CSV path.

    Returns:
        One row per compared group: [name column,] the `by` column, then calls,
        known (duration known), median (seconds), baseline, baseline_known,
        baseline_median, diff (median - baseline_median, seconds), diff_low,
        diff_high (bootstrap; NA when a side has fewer than 2 durations), p_value
        (Mann-Whitney, two-sided), p_adjusted (Holm), significant, small_sample.
    """
    if by not in calls.columns:
        raise KeyError(f"no column {by!r} to group by; columns are {list(calls.columns)}")
    mapping = read_labels(labels)
    seconds = calls["duration_s"].astype("Float64")
    frame = pd.DataFrame({by: calls[by], "_d": seconds})
    groups = frame.groupby(by, observed=False, dropna=False, sort=True)["_d"]
    table = groups.agg(["size", "count"]).reset_index()
    keys = table[by]
    known = seconds.notna().to_numpy(bool)
    all_seconds = seconds.to_numpy("float64", na_value=np.nan)
    codes = _group_codes(calls[by], keys)
    if baseline is None:
        base_label, base_code = ALL_OTHERS, None
    else:
        value = _resolve_baseline(baseline, keys, mapping)
        base_code = int(np.flatnonzero((keys == value).fillna(False).to_numpy(bool))[0])
        base_label = label_for(value, mapping) if mapping else str(value)
    rows = []
    for code in range(len(keys)):
        if code == base_code:
            continue
        mine = (codes == code) & known
        other = (codes == base_code) & known if base_code is not None else (codes != code) & known
        x, y = all_seconds[mine], all_seconds[other]
        diff, low, high, p = _median_difference(x, y, confidence, n_resamples, seed)
        rows.append({
            by: keys.iloc[code],
            "calls": int(table["size"].iloc[code]), "known": len(x),
            "median": float(np.median(x)) if len(x) else np.nan,
            "baseline": base_label, "baseline_known": len(y),
            "baseline_median": float(np.median(y)) if len(y) else np.nan,
            "diff": diff, "diff_low": low, "diff_high": high, "p_value": p,
        })
    columns = [by, "calls", "known", "median", "baseline", "baseline_known",
               "baseline_median", "diff", "diff_low", "diff_high", "p_value"]
    out = pd.DataFrame(rows, columns=columns)
    out[by] = out[by].astype(calls[by].dtype)
    out = out.astype({"calls": "Int64", "known": "Int64", "baseline_known": "Int64",
                      "baseline": "string", **{c: "Float64" for c in (
                          "median", "baseline_median", "diff", "diff_low", "diff_high")}})
    p_values = out.pop("p_value").to_numpy("float64", na_value=np.nan)
    out = _finish(out, p_values, alpha)
    out["small_sample"] = ((out["known"] < min_known)
                           | (out["baseline_known"] < min_known)).astype("boolean")
    out.attrs = {"by": by, "confidence": confidence, "alpha": alpha, "baseline": base_label}
    return apply_labels(out, mapping, [by]) if labels is not None else out


def _group_keys(values: pd.Series) -> pd.Series:
    """Every group of `values`, sorted: empty categories kept, NA last as its own."""
    grouped = values.to_frame().groupby(values.name, observed=False, dropna=False, sort=True)
    return grouped.size().index.to_series(index=None).reset_index(drop=True)


def _group_codes(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Position in `keys` of each value (NA matches an NA key); -1 for none."""
    codes = np.full(len(values), -1)
    for position, key in enumerate(keys):
        match = values.isna() if pd.isna(key) else (values == key).fillna(False)
        codes[match.to_numpy(bool)] = position
    return codes


# --- periods ------------------------------------------------------------------------

def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def week_window(day: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The UTC week (Monday 00:00 to the next Monday) that contains `day`."""
    start = _utc(day).floor("D")
    start -= pd.Timedelta(days=start.day_of_week)
    return start, start + pd.Timedelta(days=7)


def _window(spec: Window, calls: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    if spec is None:
        latest = calls["created_at"].max()
        if pd.isna(latest):
            raise ValueError("no call has a created_at: give the windows explicitly")
        return week_window(latest)
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise ValueError(f"a window is (start, end), got {spec!r}")
        start, end = _utc(spec[0]), _utc(spec[1])
        if not start < end:
            raise ValueError(f"window start {start} is not before its end {end}")
        return start, end
    return week_window(spec)


def _period_rows(current: pd.DataFrame, previous: pd.DataFrame, *, confidence: float,
                 n_resamples: int, seed: int) -> list[dict]:
    rows = [{"metric": "calls", "current": len(current), "previous": len(previous),
             "delta": len(current) - len(previous), "current_n": len(current),
             "previous_n": len(previous)}]
    for metric, outcome in (("goal rate", "goal_achieved"),
                            ("negative sentiment", "negative_sentiment")):
        now = outcome_values(current, outcome)
        before = outcome_values(previous, outcome)
        k1, n1 = int(now.fillna(False).sum()), int(now.notna().sum())
        k2, n2 = int(before.fillna(False).sum()), int(before.notna().sum())
        result = stats.compare_proportions(k1, n1, k2, n2, confidence)
        rows.append({"metric": metric,
                     "current": k1 / n1 if n1 else np.nan,
                     "previous": k2 / n2 if n2 else np.nan,
                     "delta": float(result["diff"]), "delta_low": float(result["low"]),
                     "delta_high": float(result["high"]), "test": str(result["test"]),
                     "p_value": float(result["p_value"]), "current_n": n1,
                     "previous_n": n2})
    x = current["duration_s"].dropna().to_numpy("float64")
    y = previous["duration_s"].dropna().to_numpy("float64")
    diff, low, high, p = _median_difference(x, y, confidence, n_resamples, seed)
    rows.append({"metric": "median duration (s)",
                 "current": float(np.median(x)) if len(x) else np.nan,
                 "previous": float(np.median(y)) if len(y) else np.nan,
                 "delta": diff, "delta_low": low, "delta_high": high,
                 "test": "mann-whitney" if not np.isnan(p) else "", "p_value": p,
                 "current_n": len(x), "previous_n": len(y)})
    return rows


def compare_periods(
    calls: pd.DataFrame,
    current: Window = None,
    previous: Window = None,
    *,
    by: str | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
    min_known: int = MIN_KNOWN,
    n_resamples: int = 9999,
    seed: int = 0,
    labels: Mapping | str | None = None,
) -> pd.DataFrame:
    """The KPIs of two date windows side by side, with deltas, intervals and tests.

    A window is a `(start, end)` pair (start included, end excluded, UTC; dates are
    midnight UTC) or a single date, meaning the UTC week (Monday to Sunday) that holds
    it. By default `current` is the week of the latest call and `previous` the window of
    the same length just before `current`: this week against last week.

    Rates (goal rate, negative sentiment share) are compared as in `compare_rates`
    (Newcombe interval; Fisher or z test), the median duration as in
    `compare_durations` (bootstrap interval; Mann-Whitney test). The number of calls is
    set by the test plan, so it is shown but not tested. p-values are Holm-adjusted
    over every tested row of the table.

    Args:
        calls: the `calls` frame.
        current: the window of interest.
        previous: the window to compare it with.
        by: optional column to compare each group's windows (e.g. agent_id).
        confidence, alpha, min_known, n_resamples, seed: as in `compare_rates` and
            `compare_durations`.
        labels: id -> name mapping or CSV path (adds a name column when `by` is set).

    Returns:
        One row per group and metric: [name column, the `by` column,] metric
        ("calls", "goal rate", "negative sentiment", "median duration (s)"), current,
        previous (rates as fractions, durations in seconds), delta (current -
        previous), delta_low, delta_high, test ("z", "fisher", "mann-whitney"; NA for
        calls), p_value, p_adjusted (Holm), significant, current_n, previous_n (calls
        for "calls", else calls with a known value), small_sample (either n under
        `min_known`). The windows are in `.attrs["current"]` and `.attrs["previous"]`.
    """
    cur = _window(current, calls)
    if previous is None:
        prev = (cur[0] - (cur[1] - cur[0]), cur[0])
    else:
        prev = _window(previous, calls)
    created = calls["created_at"]
    in_current = ((created >= cur[0]) & (created < cur[1])).fillna(False).to_numpy(bool)
    in_previous = ((created >= prev[0]) & (created < prev[1])).fillna(False).to_numpy(bool)
    options = {"confidence": confidence, "n_resamples": n_resamples, "seed": seed}
    rows: list[dict] = []
    if by is None:
        rows = _period_rows(calls[in_current], calls[in_previous], **options)
    else:
        if by not in calls.columns:
            raise KeyError(f"no column {by!r} to group by; columns are {list(calls.columns)}")
        keys = _group_keys(calls[by][in_current | in_previous])
        codes = _group_codes(calls[by], keys)
        for code, key in enumerate(keys):
            mine = codes == code
            for row in _period_rows(calls[in_current & mine], calls[in_previous & mine],
                                    **options):
                rows.append({by: key, **row})
    columns = ([by] if by else []) + [
        "metric", "current", "previous", "delta", "delta_low", "delta_high", "test",
        "p_value", "current_n", "previous_n"]
    out = pd.DataFrame(rows, columns=columns)
    if by:
        out[by] = out[by].astype(calls[by].dtype)
    out = out.astype({"metric": "string", "test": "string", "current_n": "Int64",
                      "previous_n": "Int64", **{c: "Float64" for c in (
                          "current", "previous", "delta", "delta_low", "delta_high")}})
    out["test"] = out["test"].replace("", pd.NA)
    p_values = out.pop("p_value").to_numpy("float64", na_value=np.nan)
    out = _finish(out, p_values, alpha)
    out = out[[*columns[:-3], "p_value", "p_adjusted", "significant", "current_n",
               "previous_n"]]
    out["small_sample"] = ((out["current_n"] < min_known)
                           | (out["previous_n"] < min_known)).astype("boolean")
    out.attrs = {"current": cur, "previous": prev, "confidence": confidence, "alpha": alpha}
    logger.debug("compared %s..%s with %s..%s", *cur, *prev)
    if by is not None and labels is not None:
        return apply_labels(out, read_labels(labels), [by])
    return out


# --- control chart ------------------------------------------------------------------

def p_chart(
    calls: pd.DataFrame,
    freq: str = "W",
    *,
    outcome: Outcome = "goal_achieved",
    by: str | None = None,
    baseline: tuple[Any, Any] | int | None = None,
    sigma: float = 3.0,
) -> pd.DataFrame:
    """A p-chart (Shewhart chart of a proportion) of an outcome per UTC day or week.

    The center line is the outcome's rate over the baseline periods (known outcomes
    only); each period's limits are center -/+ sigma sqrt(center (1 - center) / known),
    so periods with fewer calls get wider limits. A period whose rate falls outside its
    limits is flagged: the process changed (or something unusual happened) there.

    Args:
        calls: the `calls` frame.
        freq: "D" (days) or "W" (weeks starting Monday, UTC).
        outcome: as in `compare_rates`.
        by: optional column; each group gets its own center and limits.
        baseline: periods that set the center: a (start, end) pair of dates (periods
            starting in [start, end)), an integer n (the first n periods), or None
            (every period).
        sigma: width of the limits in standard errors.

    Returns:
        One row per group and period (every period in range, empty ones included):
        [the `by` column,] period_start (UTC), calls, known, events, rate, center,
        lcl, ucl (NA when the period has no known outcome), in_baseline,
        out_of_limits (rate outside [lcl, ucl]), signal ("above", "below" or NA).
    """
    values = outcome_values(calls, outcome)
    frame = calls.assign(goal_achieved=values)
    table = metrics.volume(frame, freq=freq, by=by)
    table = table.rename(columns={"achieved": "events"}).drop(
        columns=["unknown", "ci_low", "ci_high"])
    starts = table["period_start"]
    if baseline is None:
        in_baseline = pd.Series(True, index=table.index)
    elif isinstance(baseline, (int, np.integer)) and not isinstance(baseline, bool):
        first = np.sort(starts.unique())[: int(baseline)]
        in_baseline = starts.isin(first)
    elif isinstance(baseline, tuple) and len(baseline) == 2:
        in_baseline = (starts >= _utc(baseline[0])) & (starts < _utc(baseline[1]))
    else:
        raise ValueError(f"baseline must be (start, end), a number of periods or None, "
                         f"got {baseline!r}")
    table["in_baseline"] = in_baseline.astype("boolean")
    keys = [by] if by else []
    base = pd.DataFrame({
        "events": table["events"].where(in_baseline, 0).astype("float64"),
        "known": table["known"].where(in_baseline, 0).astype("float64"),
    })
    if keys:
        grouped = base.assign(**{by: table[by]}).groupby(by, observed=False, dropna=False)
        events = grouped["events"].transform("sum").to_numpy("float64")
        known = grouped["known"].transform("sum").to_numpy("float64")
    else:
        events = np.full(len(table), base["events"].sum())
        known = np.full(len(table), base["known"].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        center = np.where(known > 0, events / known, np.nan)
    n = table["known"].to_numpy("float64")
    lcl, ucl = stats.p_chart_limits(center, n, sigma)
    lcl, ucl = np.asarray(lcl), np.asarray(ucl)
    rate = table["rate"].to_numpy("float64", na_value=np.nan)
    table["center"] = pd.array(center, dtype="Float64")
    table["lcl"] = pd.array(np.where(np.isnan(center), np.nan, lcl), dtype="Float64")
    table["ucl"] = pd.array(np.where(np.isnan(center), np.nan, ucl), dtype="Float64")
    above, below = rate > ucl, rate < lcl
    table["out_of_limits"] = pd.array(above | below, dtype="boolean")
    signal = np.where(above, "above", np.where(below, "below", ""))
    table["signal"] = pd.Series(signal, index=table.index, dtype="string").replace("", pd.NA)
    table = table.astype({"events": "Int64"})
    columns = [*keys, "period_start", "calls", "known", "events", "rate", "center", "lcl",
               "ucl", "in_baseline", "out_of_limits", "signal"]
    return table[columns].reset_index(drop=True)


# --- planning -----------------------------------------------------------------------

def calls_needed(rate_a: float, rate_b: float, power: float = 0.8, alpha: float = 0.05,
                 *, ratio: float = 1.0, method: str = "pooled") -> int:
    """Test calls per agent needed to detect rate_a against rate_b.

    The number of calls with a known outcome that agent A needs (agent B needs `ratio`
    times as many) so that a two-sided test at level `alpha` detects the difference
    with probability `power`. Add the share of calls whose outcome usually comes back
    unknown. The default formula ("pooled") is the normal approximation of the pooled
    two-proportion z test used by `compare_rates` (statsmodels'
    `samplesize_proportions_2indep_onetail`); "arcsine" uses Cohen's effect size h
    (statsmodels' `NormalIndPower` with `proportion_effectsize`). See
    `stats.sample_size_two_proportions`.

    Args:
        rate_a, rate_b: the two goal rates (fractions in (0, 1)).
        power: probability of detecting the difference.
        alpha: two-sided significance level.
        ratio: calls of agent B per call of agent A.
        method: "pooled" or "arcsine".

    Returns:
        Calls per agent (for agent A), rounded up.

    Example:
        >>> calls_needed(0.5, 0.6)   # 60% against 50%
        388
    """
    n = stats.sample_size_two_proportions(rate_a, rate_b, power, alpha, ratio=ratio,
                                          method=method)
    return int(math.ceil(n - 1e-9))


# --- the report section -------------------------------------------------------------

def _p_text(value) -> str:
    if pd.isna(value):
        return "NA"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def readable_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """A comparison table formatted for reading (the report shows this one).

    Rates become percent, differences percentage points (rates) or seconds
    (durations), p-values text with 4 decimals, and significant rows get a "*".

    Args:
        table: a table returned by `compare_rates` or `compare_durations`.

    Returns:
        Columns: [name column, the group column,] calls, known, then for rates
        "rate (%)", "compared with", "their rate (%)", "difference (pp)", "low (pp)",
        "high (pp)", test, or for durations "median (s)", "compared with",
        "their median (s)", "difference (s)", "low (s)", "high (s)"; then p,
        "p (Holm)", significant ("*" or ""), "small sample" ("yes" or "").
    """
    is_rate = "rate" in table.columns
    head = [c for c in table.columns[: list(table.columns).index("calls")]]
    out = table[[*head, "calls", "known"]].copy()
    if is_rate:
        scale, unit = 100.0, "pp"
        out["rate (%)"] = table["rate"] * scale
        out["compared with"] = table["baseline"]
        out["their rate (%)"] = table["baseline_rate"] * scale
    else:
        scale, unit = 1.0, "s"
        out["median (s)"] = table["median"]
        out["compared with"] = table["baseline"]
        out["their median (s)"] = table["baseline_median"]
    out[f"difference ({unit})"] = table["diff"] * scale
    out[f"low ({unit})"] = table["diff_low"] * scale
    out[f"high ({unit})"] = table["diff_high"] * scale
    if is_rate:
        out["test"] = table["test"]
    out["p"] = table["p_value"].map(_p_text).astype("string")
    out["p (Holm)"] = table["p_adjusted"].map(_p_text).astype("string")
    out["significant"] = table["significant"].map({True: "*", False: ""}).astype(
        "string").fillna("")
    out["small sample"] = table["small_sample"].map({True: "yes", False: ""}).astype(
        "string").fillna("")
    return out


def comparison_section(logs, labels: Mapping | None = None):
    """The report's "Comparing agents" section (a `report.Section`), or None.

    Each agent's goal rate and negative-sentiment share against all other calls
    (a forest plot and tables with significant rows marked), and each agent's median
    duration against the others. None when there are fewer than two agents.
    """
    from matplotlib.figure import Figure

    from . import plots
    from .report import Section

    calls = logs.calls
    if calls["agent_id"].nunique(dropna=False) < 2:
        return None
    mapping = read_labels(labels)
    figure = Figure(figsize=(8, 1.6 + 0.6 * calls["agent_id"].nunique(dropna=False)),
                    layout="constrained")
    plots.plot_rate_comparison(calls, labels=mapping, ax=figure.subplots())
    goal = compare_rates(calls, labels=mapping)
    negative = compare_rates(calls, "negative_sentiment", labels=mapping)
    durations = compare_durations(calls, labels=mapping)
    significant = goal[goal["significant"].fillna(False).astype(bool)]
    names = ", ".join(significant["agent"].tolist()) or "no agent"
    intro = (
        "Each agent against all other calls. Differences come with a 95% Newcombe "
        "interval; p-values are two-sided (Fisher's exact test when an expected count "
        "is under 5, else a two-proportion z test) and Holm-adjusted for the number of "
        "agents compared. * marks a difference that stays significant at 5% after the "
        f"adjustment (goal rate: {names}). 'small sample' marks fewer than {MIN_KNOWN} "
        "calls with a known outcome on a side: read those rows as anecdotes."
    )
    return Section(
        title="Comparing agents",
        intro=intro,
        charts={"goal_rate_differences": figure},
        tables={"goal_rate_comparison": goal,
                "negative_sentiment_comparison": negative,
                "duration_comparison": durations},
        display={"goal_rate_comparison": readable_comparison(goal),
                 "negative_sentiment_comparison": readable_comparison(negative),
                 "duration_comparison": readable_comparison(durations)},
        captions={"goal_rate_differences": "Difference between each agent's goal rate "
                  "and the rate of all other calls, in percentage points, with its 95% "
                  "Newcombe interval. Filled markers: significant after Holm's "
                  "adjustment; dashed lines: small sample."},
    )
