"""Tidy aggregate tables: goal rate, sentiment shares, durations, volume.

Every function takes the `calls` frame of `load_logs` and returns a plain DataFrame,
one row per group (no MultiIndex). `by=` is a column name or a list of them; groups on
categorical columns keep their empty categories (a sentiment with no calls shows 0,
not a missing row), and calls whose group value is missing form their own NA group
rather than vanishing. Rates always carry their denominators.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .schema import SENTIMENTS
from .stats import wilson_interval

By = str | Sequence[str] | None

_FREQUENCIES = {"D": "D", "day": "D", "W": "W-MON", "week": "W-MON"}


def _keys(by: By) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _check_columns(calls: pd.DataFrame, keys: list[str]) -> None:
    missing = [key for key in keys if key not in calls.columns]
    if missing:
        raise KeyError(f"no column {missing!r} to group by; columns are {list(calls.columns)}")


def _aggregate(frame: pd.DataFrame, keys: list[str], **named) -> pd.DataFrame:
    """Named aggregation over `keys` (or the whole frame when there are none)."""
    if keys:
        grouped = frame.groupby(keys, observed=False, dropna=False, sort=True)
        return grouped.agg(**named).reset_index()
    # One categorical key with one category: a single row even for 0 calls.
    whole = frame.assign(_all=pd.Categorical(np.zeros(len(frame), dtype=int), categories=[0]))
    return whole.groupby("_all", observed=False).agg(**named).reset_index(drop=True)


def _with_rate(table: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Add rate, ci_low, ci_high from the achieved and known columns."""
    known = table["known"].to_numpy("float64")
    achieved = table["achieved"].to_numpy("float64")
    low, high = wilson_interval(achieved, known, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(known > 0, achieved / np.where(known > 0, known, 1), np.nan)
    table["rate"] = pd.array(rate, dtype="Float64")
    table["ci_low"] = pd.array(np.atleast_1d(low), dtype="Float64")
    table["ci_high"] = pd.array(np.atleast_1d(high), dtype="Float64")
    return table


def _counts_to_int(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return table.astype({column: "Int64" for column in columns})


def goal_rate(calls: pd.DataFrame, by: By = None, *, confidence: float = 0.95) -> pd.DataFrame:
    """Share of calls that reached their goal, with a Wilson interval.

    Calls whose outcome is unknown (NA) are left out of the denominator and counted.

    Args:
        calls: the `calls` frame.
        by: column(s) to group by; None for one row over all calls.
        confidence: level of the Wilson score interval.

    Returns:
        One row per group: the `by` columns, then
        calls (all calls), known (outcome known), unknown (calls - known),
        achieved (goal reached), rate (achieved / known), ci_low, ci_high.
    """
    keys = _keys(by)
    _check_columns(calls, keys)
    goal = calls["goal_achieved"]
    frame = calls[keys].assign(
        _known=goal.notna().astype("int64"),
        _achieved=goal.fillna(False).astype("int64"),
    )
    table = _aggregate(
        frame, keys, calls=("_known", "size"), known=("_known", "sum"),
        achieved=("_achieved", "sum"),
    )
    table["unknown"] = table["calls"] - table["known"]
    table = table[[*keys, "calls", "known", "unknown", "achieved"]]
    table = _counts_to_int(table, ["calls", "known", "unknown", "achieved"])
    return _with_rate(table, confidence)


def sentiment_shares(calls: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """Share of each sentiment label among the calls whose label is known.

    Every label appears in every group, with 0 calls when none has it.

    Args:
        calls: the `calls` frame.
        by: column(s) to group by; None for all calls.

    Returns:
        One row per group and label: the `by` columns, then sentiment (ordered
        categorical), calls (calls with this label), known (calls with any label in
        the group), share (calls / known; NA when known is 0).
    """
    keys = _keys(by)
    _check_columns(calls, keys)
    dummies = pd.get_dummies(calls["sentiment"], dtype="int64")
    dummies = dummies.reindex(columns=list(SENTIMENTS), fill_value=0)
    frame = pd.concat([calls[keys], dummies], axis=1)
    wide = _aggregate(frame, keys, **{label: (label, "sum") for label in SENTIMENTS})
    long = wide.melt(id_vars=keys, value_vars=list(SENTIMENTS), var_name="sentiment",
                     value_name="calls")
    long["sentiment"] = long["sentiment"].astype(calls["sentiment"].dtype)
    long = long.sort_values([*keys, "sentiment"], kind="stable").reset_index(drop=True)
    if keys:
        long["known"] = long.groupby(keys, observed=False, dropna=False)["calls"].transform("sum")
    else:
        long["known"] = long["calls"].sum()
    long = _counts_to_int(long, ["calls", "known"])
    long["share"] = (long["calls"] / long["known"].replace(0, pd.NA)).astype("Float64")
    return long[[*keys, "sentiment", "calls", "known", "share"]]


def duration_summary(calls: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """Call-length statistics in seconds, over the calls whose duration is known.

    Args:
        calls: the `calls` frame.
        by: column(s) to group by; None for all calls.

    Returns:
        One row per group: the `by` columns, then calls, known (duration known),
        mean, median, p90 (90th percentile, linear interpolation), min, max and
        total, all in seconds; NA where a group has no known duration.
    """
    keys = _keys(by)
    _check_columns(calls, keys)
    frame = calls[keys].assign(_d=calls["duration_s"].astype("Float64"))
    table = _aggregate(
        frame, keys, calls=("_d", "size"), known=("_d", "count"), mean=("_d", "mean"),
        median=("_d", "median"), p90=("_d", lambda s: s.quantile(0.9)),
        min=("_d", "min"), max=("_d", "max"), total=("_d", "sum"),
    )
    table = _counts_to_int(table, ["calls", "known"])
    stats = ["mean", "median", "p90", "min", "max", "total"]
    table = table.astype({column: "Float64" for column in stats})
    # A group with no known duration has no total, not a total of 0.
    table["total"] = table["total"].mask(table["known"] == 0)
    return table[[*keys, "calls", "known", *stats]]


def period_starts(created_at: pd.Series, freq: str = "W") -> pd.Series:
    """The UTC day (freq "D") or ISO week, starting Monday (freq "W"), of each time."""
    code = _frequency(freq)
    day = created_at.dt.floor("D")
    if code == "D":
        return day
    return day - pd.to_timedelta(day.dt.day_of_week, unit="D")


def _frequency(freq: str) -> str:
    try:
        return _FREQUENCIES[freq]
    except KeyError:
        raise ValueError(f"freq must be 'D' (day) or 'W' (week), got {freq!r}") from None


def volume(
    calls: pd.DataFrame, freq: str = "W", by: By = None, *, confidence: float = 0.95
) -> pd.DataFrame:
    """Calls and goal rate per UTC day or week, with every period in range present.

    Args:
        calls: the `calls` frame.
        freq: "D" for days or "W" for weeks starting Monday (UTC).
        by: column(s) to split each period by; None for all calls.
        confidence: level of the Wilson interval of each period's goal rate.

    Returns:
        One row per group and period: the `by` columns, then period_start
        (datetime, UTC), calls, known, unknown, achieved, rate, ci_low, ci_high.
        Periods with no calls have calls 0 and NA rate. Calls with no created_at
        are left out.
    """
    keys = _keys(by)
    _check_columns(calls, keys)
    code = _frequency(freq)
    dated = calls[calls["created_at"].notna()]
    starts = period_starts(dated["created_at"], freq)
    if len(starts):
        periods = pd.date_range(starts.min(), starts.max(), freq=code)
    else:
        periods = pd.DatetimeIndex([], tz="UTC").as_unit("us")
    # A categorical of every period lets observed=False fill the empty ones.
    frame = dated.assign(period_start=pd.Categorical(starts, categories=periods))
    table = goal_rate(frame, [*keys, "period_start"], confidence=confidence)
    table["period_start"] = pd.DatetimeIndex(table["period_start"].astype(periods.dtype))
    return table.reset_index(drop=True)


def kpis(calls: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """The headline numbers of a set of calls, as a two-column table.

    Returns:
        Columns metric and value (text, formatted for reading): calls, agents,
        workflows, first and last call (UTC), goal rate with its interval and
        denominator, unknown outcomes, median and mean duration, sentiment shares.
    """
    goal = goal_rate(calls, confidence=confidence).iloc[0]
    duration = duration_summary(calls).iloc[0]
    shares = sentiment_shares(calls).set_index("sentiment")["share"]
    created = calls["created_at"]

    def fmt(value, pattern):
        return "NA" if pd.isna(value) else pattern.format(value)

    rows = [
        ("calls", f"{len(calls)}"),
        ("agents", f"{calls['agent_id'].nunique()}"),
        ("workflows", f"{calls['workflow_id'].nunique()}"),
        ("first call (UTC)", fmt(created.min(), "{:%Y-%m-%d %H:%M}")),
        ("last call (UTC)", fmt(created.max(), "{:%Y-%m-%d %H:%M}")),
        ("goal rate", fmt(goal["rate"], "{:.1%}")
         + f" ({int(goal['achieved'])} of {int(goal['known'])} known)"),
        (f"goal rate {confidence:.0%} interval",
         fmt(goal["ci_low"], "{:.1%}") + " to " + fmt(goal["ci_high"], "{:.1%}")),
        ("unknown outcome", f"{int(goal['unknown'])}"),
        ("median duration (s)", fmt(duration["median"], "{:.0f}")),
        ("mean duration (s)", fmt(duration["mean"], "{:.0f}")),
    ]
    rows += [(f"{label} sentiment", fmt(shares.get(label), "{:.1%}")) for label in SENTIMENTS]
    return pd.DataFrame(rows, columns=["metric", "value"]).astype("string")
