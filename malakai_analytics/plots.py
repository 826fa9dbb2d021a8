"""Matplotlib charts with the seaborn contract.

Every function is `plot_x(calls, *, ..., ax=None, **kwargs) -> Axes`: it draws on `ax`
(the current Axes when None), passes `kwargs` to the main artist, and returns the Axes.
No backend is chosen, nothing is shown or printed. Empty input draws a "No calls" note.
Colours are fixed per meaning, the same in every chart.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from . import metrics
from .labels import label_for
from .schema import SENTIMENTS

#: Sentiment label -> colour, in every chart.
SENTIMENT_COLORS = {"negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60"}
#: Goal outcome -> colour, in every chart (blue/orange, distinct from sentiment).
GOAL_COLORS = {"achieved": "#2e6fb7", "not achieved": "#e67e22", "unknown": "#a6acaf"}
#: Neutral colour for plain counts.
VOLUME_COLOR = "#7f8c8d"



def _axes(ax: Axes | None) -> Axes:
    return plt.gca() if ax is None else ax


def _name(column: str) -> str:
    """A column as words for a title: agent_id -> agent, goal_achieved -> goal achieved."""
    return column.removesuffix("_id").replace("_", " ")


def _no_calls(ax: Axes, title: str | None = None) -> Axes:
    ax.text(0.5, 0.5, "No calls", ha="center", va="center", transform=ax.transAxes,
            fontsize="large", color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


#: Readable name of a group value: the mapping's name, else a shortened id.
group_label = label_for


def plot_goal_rate(
    calls: pd.DataFrame,
    *,
    by: str = "agent_id",
    confidence: float = 0.95,
    labels: Mapping | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Goal rate per group as bars with Wilson-interval error bars.

    Each group's name is followed by achieved/known, so a high rate on few calls
    reads as such. Groups with no known outcome show no bar.

    Args:
        calls: the `calls` frame.
        by: column to group by.
        confidence: level of the interval drawn.
        labels: optional mapping of group value -> display name.
        ax: Axes to draw on.
        **kwargs: passed to `Axes.bar`.
    """
    ax = _axes(ax)
    title = f"Goal rate by {_name(by)} ({confidence:.0%} Wilson interval)"
    if calls.empty:
        return _no_calls(ax, title)
    table = metrics.goal_rate(calls, by=by, confidence=confidence)
    rate = table["rate"].to_numpy("float64", na_value=np.nan)
    low = table["ci_low"].to_numpy("float64", na_value=np.nan)
    high = table["ci_high"].to_numpy("float64", na_value=np.nan)
    x = np.arange(len(table))
    kwargs.setdefault("color", GOAL_COLORS["achieved"])
    ax.bar(x, np.nan_to_num(rate), yerr=[np.nan_to_num(rate - low),
                                                 np.nan_to_num(high - rate)],
                  capsize=4, ecolor="#333333", label="goal achieved", **kwargs)
    # The denominators go under the names: a high rate on few calls reads as such.
    ax.set_xticks(x, [f"{group_label(v, labels)}\n{a}/{k}" for v, a, k
                      in zip(table[by], table["achieved"], table["known"])])
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("goal rate (achieved / known outcome)")
    ax.set_xlabel(_name(by))
    ax.set_title(title)
    return ax


def plot_sentiment_shares(
    calls: pd.DataFrame,
    *,
    by: str = "agent_id",
    labels: Mapping | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Share of each sentiment label per group, as stacked horizontal bars.

    Args:
        calls: the `calls` frame.
        by: column to group by.
        labels: optional mapping of group value -> display name.
        ax: Axes to draw on.
        **kwargs: passed to `Axes.barh`.
    """
    ax = _axes(ax)
    title = f"Sentiment by {_name(by)} (share of labelled calls)"
    if calls.empty:
        return _no_calls(ax, title)
    table = metrics.sentiment_shares(calls, by=by)
    wide = table.pivot_table(index=by, columns="sentiment", values="share", observed=False,
                             dropna=False, sort=True, aggfunc="first")
    known = table.groupby(by, observed=False, dropna=False, sort=True)["known"].first()
    y = np.arange(len(wide))
    left = np.zeros(len(wide))
    for label in SENTIMENTS:
        share = wide[label].to_numpy("float64", na_value=np.nan)
        share = np.nan_to_num(share)
        ax.barh(y, share, left=left, color=SENTIMENT_COLORS[label], label=label, **kwargs)
        left += share
    ax.set_yticks(y, [f"{group_label(v, labels)} (n={n})" for v, n in zip(wide.index, known)])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of calls with a sentiment label")
    ax.legend(title="sentiment", loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3,
              fontsize="small")
    ax.set_title(title)
    return ax


def _goal_groups(goal: pd.Series) -> pd.Series:
    named = goal.map({True: "achieved", False: "not achieved"})
    return named.astype("object").where(goal.notna(), "unknown")


def plot_duration_distribution(
    calls: pd.DataFrame,
    *,
    by: str | None = "goal_achieved",
    bins: int | np.ndarray = 30,
    labels: Mapping | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Histogram of call durations, one outline per group (per goal outcome by default).

    Calls with no known duration are left out; the legend says how many calls each
    group has.

    Args:
        calls: the `calls` frame.
        by: column to split by; "goal_achieved" uses the goal colours, None draws one
            histogram.
        bins: number of bins or bin edges (in seconds), shared by every group.
        labels: optional mapping of group value -> display name.
        ax: Axes to draw on.
        **kwargs: passed to `Axes.hist`.
    """
    ax = _axes(ax)
    title = "Call duration" + (f" by {_name(by)}" if by else "")
    durations = calls["duration_s"].astype("float64") if not calls.empty else None
    if calls.empty or durations.notna().sum() == 0:
        return _no_calls(ax, title)
    known = calls[calls["duration_s"].notna()]
    seconds = known["duration_s"].to_numpy("float64")
    edges = np.histogram_bin_edges(seconds, bins=bins)
    if by is None:
        groups = [("all calls", seconds, VOLUME_COLOR)]
    elif by == "goal_achieved":
        names = _goal_groups(known["goal_achieved"])
        groups = [(name, seconds[(names == name).to_numpy()], GOAL_COLORS[name])
                  for name in GOAL_COLORS if (names == name).any()]
    else:
        cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        values = known[by]
        groups = [(group_label(v, labels), seconds[(values == v).fillna(False).to_numpy()],
                   cycle[i % len(cycle)]) for i, v in enumerate(pd.unique(values.dropna()))]
    kwargs.setdefault("histtype", "step")
    kwargs.setdefault("linewidth", 2)
    for name, values, color in groups:
        ax.hist(values, bins=edges, color=color, label=f"{name} (n={len(values)})", **kwargs)
    ax.set_xlabel("duration (s)")
    ax.set_ylabel("calls")
    ax.set_title(title)
    ax.legend(title="calls with a known duration", fontsize="small", title_fontsize="small")
    return ax


def plot_volume(
    calls: pd.DataFrame,
    *,
    freq: str = "W",
    confidence: float = 0.95,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Calls per UTC day or week as bars, with the goal rate and its interval on a
    second y axis.

    Args:
        calls: the `calls` frame.
        freq: "D" or "W" (weeks start Monday, UTC).
        confidence: level of the goal-rate band.
        ax: Axes to draw the bars on; the rate goes on `ax.twinx()`.
        **kwargs: passed to `Axes.bar`.

    Returns:
        The Axes of the bars (the rate Axes is its twin, `ax.rate_axes`).
    """
    ax = _axes(ax)
    period = "day" if freq in ("D", "day") else "week"
    title = f"Calls and goal rate per {period}"
    if calls.empty or calls["created_at"].notna().sum() == 0:
        return _no_calls(ax, title)
    table = metrics.volume(calls, freq=freq, confidence=confidence)
    starts = table["period_start"].dt.tz_localize(None)
    days = 1 if period == "day" else 7
    # Bars span their period from its start; the rate sits at the period's middle.
    centres = starts + pd.Timedelta(days=days / 2)
    kwargs.setdefault("color", VOLUME_COLOR)
    kwargs.setdefault("alpha", 0.6)
    ax.bar(starts, table["calls"].to_numpy("int64"), width=pd.Timedelta(days=days * 0.85),
           align="edge", label="calls", **kwargs)
    step = max(1, len(starts) // 12)
    ax.set_xticks(starts[::step], [f"{day:%Y-%m-%d}" for day in starts[::step]])
    ax.set_ylabel("calls")
    ax.set_xlabel(f"{'day' if period == 'day' else 'week starting'} (UTC)")
    rate_ax = ax.twinx()
    rate = table["rate"].to_numpy("float64", na_value=np.nan)
    rate_ax.fill_between(centres, table["ci_low"].to_numpy("float64", na_value=np.nan),
                         table["ci_high"].to_numpy("float64", na_value=np.nan),
                         color=GOAL_COLORS["achieved"], alpha=0.2,
                         label=f"{confidence:.0%} interval")
    rate_ax.plot(centres, rate, color=GOAL_COLORS["achieved"], marker="o", label="goal rate")
    rate_ax.set_ylim(0, 1)
    rate_ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    rate_ax.set_ylabel("goal rate")
    handles = ax.get_legend_handles_labels()
    rate_handles = rate_ax.get_legend_handles_labels()
    ax.legend(handles[0] + rate_handles[0], handles[1] + rate_handles[1],
              loc="upper left", fontsize="small")
    ax.set_title(title)
    ax.figure.autofmt_xdate()
    ax.rate_axes = rate_ax
    return ax


def plot_sentiment_vs_goal(
    calls: pd.DataFrame,
    *,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Calls per sentiment label, stacked by goal outcome.

    Args:
        calls: the `calls` frame.
        ax: Axes to draw on.
        **kwargs: passed to `Axes.bar`.
    """
    ax = _axes(ax)
    title = "Goal outcome by sentiment"
    if calls.empty:
        return _no_calls(ax, title)
    outcome = pd.Categorical(_goal_groups(calls["goal_achieved"]), categories=list(GOAL_COLORS))
    sentiment = calls["sentiment"].cat.add_categories(["(none)"]).fillna("(none)")
    counts = pd.crosstab(sentiment, outcome, dropna=False)
    counts = counts.reindex(index=[*SENTIMENTS, "(none)"], columns=list(GOAL_COLORS),
                            fill_value=0)
    if counts.loc["(none)"].sum() == 0:
        counts = counts.drop(index="(none)")
    x = np.arange(len(counts))
    bottom = np.zeros(len(counts))
    for name in GOAL_COLORS:
        values = counts[name].to_numpy("float64")
        ax.bar(x, values, bottom=bottom, color=GOAL_COLORS[name], label=name, **kwargs)
        bottom += values
    ax.set_xticks(x, [str(label) for label in counts.index])
    ax.set_xlabel("platform sentiment label")
    ax.set_ylabel("calls")
    ax.legend(title="goal", fontsize="small")
    ax.set_title(title)
    return ax


# --- distinguishing words (issue 7: conversation analysis) ----------------------------

def plot_distinguishing_words(
    words: pd.DataFrame,
    *,
    role: str = "user",
    top: int = 10,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """The words most typical of failed and of successful calls, for one role.

    Horizontal bars of the weighted log-odds z-score: the `top` words with the highest
    z (typical of failed calls, goal "not achieved" colour, to the right) and the `top`
    with the lowest (typical of successful calls, "achieved" colour, to the left).
    Dashed lines mark |z| = 1.96.

    Args:
        words: the table of `conversation.distinguishing_words` (columns role, word,
            failed, succeeded, z).
        role: which role's words to draw.
        top: words drawn on each side.
        ax: Axes to draw on.
        **kwargs: passed to `Axes.barh`.
    """
    ax = _axes(ax)
    title = f"Words of failed vs successful calls ({role})"
    own = words[(words["role"] == role).fillna(False).astype(bool) & words["z"].notna()]
    if own.empty:
        return _no_calls(ax, title)
    ranked = own.sort_values(["z", "word"], ascending=[False, True], kind="stable")
    failed = ranked[ranked["z"] > 0].head(top)
    succeeded = ranked[ranked["z"] < 0].tail(top)
    shown = pd.concat([failed, succeeded]).iloc[::-1]  # highest z at the top
    z = shown["z"].to_numpy("float64")
    colours = np.where(z > 0, GOAL_COLORS["not achieved"], GOAL_COLORS["achieved"])
    y = np.arange(len(shown))
    ax.barh(y, z, color=colours, **kwargs)
    ax.set_yticks(y, shown["word"].astype(str).tolist())
    for x in (-1.96, 1.96):
        ax.axvline(x, color="#555555", linestyle="--", linewidth=0.8)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_xlabel("log-odds z-score (right: failed, left: successful)")
    ax.set_title(title)
    return ax


# --- comparisons (issue 6): forest plot of differences, p-chart ---------------------
# Self-contained block: the tables come from `compare` (imported inside the functions,
# so that `compare` can be imported on its own and the report can import this module).

#: Comparison markers: filled when the difference survives Holm's adjustment.
COMPARISON_COLORS = {"significant": "#5b2c83", "not significant": "#5d6d7e",
                     "reference": "#333333"}
#: p-chart colours: the rate line, its limits, and periods outside them.
CONTROL_COLORS = {"rate": "#2e6fb7", "limits": "#5d6d7e", "signal": "#c2185b",
                  "baseline": "#eaeded"}

_OUTCOME_TITLES = {"goal_achieved": "goal rate", "goal_missed": "missed-goal rate",
                   "negative_sentiment": "negative-sentiment share",
                   "neutral_sentiment": "neutral-sentiment share",
                   "positive_sentiment": "positive-sentiment share"}


def plot_rate_comparison(
    calls: pd.DataFrame,
    *,
    outcome="goal_achieved",
    by: str = "agent_id",
    baseline=None,
    confidence: float = 0.95,
    alpha: float = 0.05,
    labels: Mapping | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Forest plot: each group's rate minus the baseline's, with its interval.

    One row per group of `compare.compare_rates` (same arguments): the difference in
    percentage points and its Newcombe interval, a line at 0 (no difference). Filled
    markers survive Holm's adjustment at `alpha`; hollow ones do not; a dashed line
    marks a small sample. Each row is annotated with its Holm-adjusted p-value and
    labelled with its number of known outcomes.

    Args:
        calls: the `calls` frame.
        outcome, by, baseline, confidence, alpha: as in `compare.compare_rates`.
        labels: optional mapping of group value -> display name.
        ax: Axes to draw on.
        **kwargs: passed to `Axes.errorbar`.
    """
    from . import compare

    ax = _axes(ax)
    name = _OUTCOME_TITLES.get(str(outcome), str(getattr(outcome, "name", outcome)))
    against = (compare.ALL_OTHERS if baseline is None
               else group_label(baseline, labels))
    title = f"Difference in {name} against {against}"
    if calls.empty:
        return _no_calls(ax, title)
    table = compare.compare_rates(calls, outcome, by, baseline, confidence=confidence,
                                  alpha=alpha, labels=labels or None)
    against = table.attrs["baseline"]
    title = f"Difference in {name} against {against}"
    diff = table["diff"].to_numpy("float64", na_value=np.nan) * 100
    low = table["diff_low"].to_numpy("float64", na_value=np.nan) * 100
    high = table["diff_high"].to_numpy("float64", na_value=np.nan) * 100
    significant = table["significant"].fillna(False).to_numpy(bool)
    small = table["small_sample"].fillna(False).to_numpy(bool)
    y = np.arange(len(table))
    ax.axvline(0, color=COMPARISON_COLORS["reference"], linewidth=1)
    kwargs.setdefault("capsize", 4)
    for i in y:
        if np.isnan(diff[i]):
            ax.annotate("no known outcome", (0, i), ha="center", va="center",
                        fontsize="small", color="#555555")
            continue
        color = COMPARISON_COLORS["significant" if significant[i] else "not significant"]
        bars = ax.errorbar(diff[i], i, xerr=[[diff[i] - low[i]], [high[i] - diff[i]]],
                           fmt="o", color=color, markersize=7,
                           markerfacecolor=color if significant[i] else "white", **kwargs)
        if small[i]:
            for line in bars[2]:
                line.set_linestyle("--")
    names = [group_label(v, labels) for v in table[by]]
    known = table["known"].to_numpy("int64", na_value=0)
    ax.set_yticks(y, [f"{n} (n={k})" + (", small sample" if s else "")
                      for n, k, s in zip(names, known, small)])
    ax.set_ylim(len(table) - 0.5, -0.5)
    finite = np.concatenate([low[~np.isnan(low)], high[~np.isnan(high)], [0.0]])
    span = max(finite.max() - finite.min(), 1.0)
    ax.set_xlim(finite.min() - 0.05 * span, finite.max() + 0.45 * span)
    right = finite.max() + 0.04 * span
    for i, p in enumerate(table["p_adjusted"]):
        text = "p (Holm) NA" if pd.isna(p) else (
            "p (Holm) < 0.001" if p < 0.001 else f"p (Holm) = {p:.3f}")
        ax.annotate(text, (right, i), va="center", fontsize="small", color="#333333")
    ax.set_xlabel(f"{name} minus {against} (percentage points, "
                  f"{confidence:.0%} Newcombe interval)")
    ax.set_title(title, pad=24)
    handles = [
        plt.Line2D([], [], marker="o", linestyle="-", color=COMPARISON_COLORS["significant"],
                   label=f"significant (Holm, {alpha:.0%})"),
        plt.Line2D([], [], marker="o", linestyle="-", markerfacecolor="white",
                   color=COMPARISON_COLORS["not significant"], label="not significant"),
        plt.Line2D([], [], linestyle="--", color=COMPARISON_COLORS["not significant"],
                   label="small sample"),
    ]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3,
              fontsize="small", frameon=False)
    return ax


def plot_p_chart(
    calls: pd.DataFrame,
    *,
    freq: str = "W",
    outcome="goal_achieved",
    baseline=None,
    sigma: float = 3.0,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """p-chart of an outcome's rate per UTC day or week, limits from a baseline.

    The rate of each period (line and markers), the baseline center line, and the
    per-period control limits (steps; wider for periods with fewer calls). The
    baseline periods are shaded; periods outside the limits are marked.

    Args:
        calls: the `calls` frame (filter it to one agent to chart that agent).
        freq, outcome, baseline, sigma: as in `compare.p_chart`.
        ax: Axes to draw on.
        **kwargs: passed to `Axes.plot` for the rate line.
    """
    from . import compare

    ax = _axes(ax)
    period = "day" if freq in ("D", "day") else "week"
    name = _OUTCOME_TITLES.get(str(outcome), str(getattr(outcome, "name", outcome)))
    title = f"Control chart (p-chart) of the {name} per {period}"
    if calls.empty or calls["created_at"].notna().sum() == 0:
        return _no_calls(ax, title)
    table = compare.p_chart(calls, freq, outcome=outcome, baseline=baseline, sigma=sigma)
    starts = table["period_start"].dt.tz_localize(None)
    days = 1 if period == "day" else 7
    centres = starts + pd.Timedelta(days=days / 2)
    rate = table["rate"].to_numpy("float64", na_value=np.nan)
    lcl = table["lcl"].to_numpy("float64", na_value=np.nan)
    ucl = table["ucl"].to_numpy("float64", na_value=np.nan)
    center = table["center"].to_numpy("float64", na_value=np.nan)
    in_base = table["in_baseline"].fillna(False).to_numpy(bool)
    width = pd.Timedelta(days=days)
    for start, shaded in zip(starts, in_base):
        if shaded:
            ax.axvspan(start, start + width, color=CONTROL_COLORS["baseline"], linewidth=0)
    edges = list(starts) + [starts.iloc[-1] + width]
    ax.stairs(ucl, edges, color=CONTROL_COLORS["limits"], linestyle="--",
              label=f"control limits (±{sigma:g} SE)", baseline=None)
    ax.stairs(lcl, edges, color=CONTROL_COLORS["limits"], linestyle="--", baseline=None)
    ax.stairs(center, edges, color=CONTROL_COLORS["limits"], linewidth=1, baseline=None,
              label=f"center {center[0]:.1%}" if not np.isnan(center[0]) else "center")
    kwargs.setdefault("color", CONTROL_COLORS["rate"])
    kwargs.setdefault("marker", "o")
    ax.plot(centres, rate, label=name, **kwargs)
    out = table["out_of_limits"].fillna(False).to_numpy(bool)
    if out.any():
        ax.scatter(centres[out], rate[out], s=120, facecolors="none", linewidths=2,
                   edgecolors=CONTROL_COLORS["signal"], zorder=3, label="outside the limits")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(f"{name} (of known outcomes)")
    ax.set_xlabel(f"{'day' if period == 'day' else 'week starting'} (UTC); shaded: baseline")
    step = max(1, len(starts) // 12)
    ax.set_xticks(starts[::step], [f"{day:%Y-%m-%d}" for day in starts[::step]])
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(title)
    ax.figure.autofmt_xdate()
    return ax


#: Every chart of the report, by file stem.
CHARTS = {
    "goal_rate_by_agent": plot_goal_rate,
    "sentiment_by_agent": plot_sentiment_shares,
    "duration_distribution": plot_duration_distribution,
    "volume_over_time": plot_volume,
    "sentiment_vs_goal": plot_sentiment_vs_goal,
}
