"""Look inside the calls: talk balance, label consistency, what failed calls say.

The platform's labels (sentiment, goal achieved, summary) come from a model. This
module measures the transcript itself and checks the labels against it:

- `conversation_measures(logs)`: one row per call of words, turns, runs, questions and
  repeats, computed over all turns at once (no loop over calls).
- `conversation_summary(logs, by=...)`: those measures per group.
- `consistency_report(logs)`: named rules (`RULES`, data, not code paths), each with a
  count, a share and example call ids; `consistency_flags(logs)` gives the per-call flags.
- `distinguishing_words(logs)`: words typical of failed versus successful calls, per
  role (weighted log-odds with an informative Dirichlet prior; Monroe, Colaresi and
  Quinn 2008, "Fightin' Words", Political Analysis 16(4)).
- `find_turns(logs, pattern)` and `show_call(logs, call_id)`: find and read.

A "real" turn is one with words (`is_placeholder` False); the user "speaks" only in
real turns. Calls whose transcript is unknown (`calls.n_turns` is NA: the conversation
was unreadable or `test_result` missing) and calls with no id get NA measures, not 0.
"""

from __future__ import annotations

import html
import logging
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import text_sentiment
from .errors import MalakaiError
from .loader import CallLogs
from .report import Section
from .text_sentiment import _call_positions

logger = logging.getLogger(__name__)

#: Columns of `conversation_measures`: name -> (dtype, meaning).
MEASURE_COLUMNS = {
    "call_id": ("string", "Joins to `calls.call_id`."),
    "n_turns": ("Int64", "Turns in the transcript (placeholders and every role included)."),
    "user_turns": ("Int64", "Turns with role `user`, placeholders included."),
    "assistant_turns": ("Int64", "Turns with role `assistant`, placeholders included."),
    "user_real_turns": ("Int64", "User turns with at least one word."),
    "user_words": ("Int64", "Words the user said."),
    "assistant_words": ("Int64", "Words the assistant said."),
    "assistant_share": ("Float64",
                        "assistant_words / (user_words + assistant_words); NA with no words."),
    "longest_assistant_run": ("Int64", "Most assistant words between two real user turns "
                              "(placeholders and other roles do not break a run)."),
    "first_user_turn": ("Int64", "`turn` of the first real user turn; NA when there is none."),
    "user_silent": ("boolean", "True when the user said no real word (0 turns included)."),
    "repeated_assistant_turns": ("Int64", "Assistant turns saying, verbatim (ends stripped), "
                                 "what the assistant already said earlier in the call."),
    "assistant_questions": ("Int64", "Questions asked by the assistant: runs of `?`."),
    "last_speaker": ("category", "Role of the last turn with words; NA when none has words."),
}

_QUESTION = r"\?+"


def _ordered(calls: pd.DataFrame, turns: pd.DataFrame):
    """Turn arrays sorted by (call row, turn), keeping only turns that join a call."""
    pos = _call_positions(calls, turns)
    turn = turns["turn"].to_numpy("int64", na_value=-1)
    keep = np.flatnonzero(pos >= 0)
    order = keep[np.lexsort((turn[keep], pos[keep]))]
    return order, pos[order], turn[order]


def conversation_measures(logs: CallLogs) -> pd.DataFrame:
    """Per-call measures of the transcript, one row per call of `logs.calls`.

    Vectorised over turns: runs of assistant words come from a cumulative sum of real
    user turns, first/last turns from where the call changes in the sorted turns.

    Args:
        logs: a load.

    Returns:
        One row per call, in `calls` order, with the columns of `MEASURE_COLUMNS`:
        call_id, n_turns, user_turns, assistant_turns, user_real_turns, user_words,
        assistant_words, assistant_share, longest_assistant_run, first_user_turn,
        user_silent, repeated_assistant_turns, assistant_questions, last_speaker.
        Calls with 0 turns have 0 counts, user_silent True and NA where a value is
        undefined (share, first user turn, last speaker); calls whose transcript is
        unknown have NA everywhere.
    """
    calls, turns = logs.calls, logs.turns
    n = len(calls)
    order, pos, turn = _ordered(calls, turns)
    role = turns["role"].iloc[order]
    words = turns["n_words"].iloc[order].to_numpy("int64", na_value=0)
    real = words > 0
    is_user = (role == "user").to_numpy(bool, na_value=False)
    is_assistant = (role == "assistant").to_numpy(bool, na_value=False)

    def count(mask, weights=None):
        return np.bincount(pos[mask], weights=None if weights is None else weights[mask],
                           minlength=n).astype("int64")

    everything = np.ones(len(pos), dtype=bool)
    out = {
        "n_turns": count(everything),
        "user_turns": count(is_user),
        "assistant_turns": count(is_assistant),
        "user_real_turns": count(is_user & real),
        "user_words": count(is_user, words),
        "assistant_words": count(is_assistant, words),
    }
    spoken = out["user_words"] + out["assistant_words"]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(spoken > 0, out["assistant_words"] / np.where(spoken, spoken, 1),
                         np.nan)

    # Runs: a new run starts at each call's first turn and at each real user turn.
    starts_call = np.r_[True, pos[1:] != pos[:-1]] if len(pos) else np.zeros(0, bool)
    breaks = starts_call | (is_user & real)
    run = np.cumsum(breaks) - 1
    run_words = np.bincount(run, weights=words * is_assistant, minlength=int(breaks.sum()))
    run_call = pos[breaks]
    longest = np.zeros(n, dtype="int64")
    if len(run_call):
        first_run = np.flatnonzero(np.r_[True, run_call[1:] != run_call[:-1]])
        longest[run_call[first_run]] = np.maximum.reduceat(run_words, first_run)

    first_user = np.full(n, -1, dtype="int64")
    talk = np.flatnonzero(is_user & real)
    calls_talking, first_at = np.unique(pos[talk], return_index=True)
    first_user[calls_talking] = turn[talk[first_at]]

    said = np.flatnonzero(real)
    last_at = said[np.r_[pos[said][1:] != pos[said][:-1], True]] if len(said) else said
    role_codes = role.cat.codes.to_numpy()
    last_code = np.full(n, -1, dtype=role_codes.dtype)
    last_code[pos[last_at]] = role_codes[last_at]

    # Verbatim repeats and questions, computed on the distinct assistant texts.
    spoken_by_assistant = np.flatnonzero(is_assistant & real)
    content = turns["content"].iloc[order].iloc[spoken_by_assistant]
    codes, uniques = pd.factorize(content)
    stripped = pd.Series(uniques, dtype="string").str.strip()
    text_id = pd.factorize(stripped)[0][codes] if len(uniques) else codes
    questions = pd.Series(uniques, dtype="string").str.count(_QUESTION).to_numpy("int64")
    owner = pos[spoken_by_assistant]
    again = pd.DataFrame({"call": owner, "text": text_id}).duplicated().to_numpy(bool)
    out["repeated_assistant_turns"] = np.bincount(owner[again], minlength=n).astype("int64")
    out["assistant_questions"] = np.bincount(
        owner, weights=questions[codes] if len(codes) else None, minlength=n).astype("int64")

    unknown = (calls["n_turns"].isna() | calls["call_id"].isna()).to_numpy(bool)
    table = pd.DataFrame({"call_id": calls["call_id"].astype("string").to_numpy()})
    table["call_id"] = table["call_id"].astype("string")
    for name in ("n_turns", "user_turns", "assistant_turns", "user_real_turns", "user_words",
                 "assistant_words"):
        table[name] = pd.array(out[name], dtype="Int64")
    table["assistant_share"] = pd.array(share, dtype="Float64")
    table["longest_assistant_run"] = pd.array(longest, dtype="Int64")
    table["first_user_turn"] = pd.array(first_user, dtype="Int64").copy()
    table.loc[first_user < 0, "first_user_turn"] = pd.NA
    table["user_silent"] = pd.array(out["user_real_turns"] == 0, dtype="boolean")
    table["repeated_assistant_turns"] = pd.array(out["repeated_assistant_turns"], dtype="Int64")
    table["assistant_questions"] = pd.array(out["assistant_questions"], dtype="Int64")
    table["last_speaker"] = pd.Categorical.from_codes(last_code, dtype=turns["role"].dtype)
    if unknown.any():
        for name in table.columns[1:]:
            table.loc[unknown, name] = pd.NA
    return table[list(MEASURE_COLUMNS)]


def _goal_group(goal: pd.Series) -> pd.Series:
    names = np.where(goal.isna(), "unknown",
                     np.where(goal.fillna(False).astype(bool), "achieved", "not achieved"))
    return pd.Series(pd.Categorical(names, categories=["achieved", "not achieved", "unknown"]),
                     index=goal.index, name="goal")


def conversation_summary(logs: CallLogs, by: str | Sequence[str] | None = "goal",
                         *, measures: pd.DataFrame | None = None) -> pd.DataFrame:
    """The conversation measures per group of calls.

    Args:
        logs: a load.
        by: "goal" (achieved / not achieved / unknown, the default), a `calls` column
            or a list of them, or None for one row over all calls.
        measures: the result of `conversation_measures(logs)`, to reuse it.

    Returns:
        One row per group: the `by` columns, then calls, known (transcript known),
        mean_turns, mean_user_words, mean_assistant_words, assistant_word_pct
        (assistant words as a percentage of all words of the group's calls),
        median_longest_run (words), user_silent (calls), with_repeats (calls with at
        least one verbatim repeated assistant turn), mean_questions (assistant
        questions per call), user_spoke_last (calls whose last real words are the
        user's). Means are over the calls whose transcript is known.
    """
    table = conversation_measures(logs) if measures is None else measures
    calls = logs.calls
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    frame = pd.DataFrame(index=table.index)
    for key in keys:
        column = _goal_group(calls["goal_achieved"]) if key == "goal" else calls[key]
        frame[key] = column.array  # keeps categoricals, so empty groups stay
    if not keys:
        keys = ["_all"]
        frame["_all"] = pd.Categorical(np.zeros(len(table), dtype=int), categories=[0])
    known = table["n_turns"].notna()
    frame = frame.assign(
        _known=known.astype("int64"),
        _turns=table["n_turns"].astype("Float64"),
        _uw=table["user_words"].astype("Float64"),
        _aw=table["assistant_words"].astype("Float64"),
        _run=table["longest_assistant_run"].astype("Float64"),
        _silent=table["user_silent"].fillna(False).astype("int64"),
        _repeat=(table["repeated_assistant_turns"] > 0).fillna(False).astype("int64"),
        _q=table["assistant_questions"].astype("Float64"),
        _last=(table["last_speaker"] == "user").fillna(False).astype("int64"),
    )
    grouped = frame.groupby(keys, observed=False, dropna=False, sort=True)
    out = grouped.agg(
        calls=("_known", "size"), known=("_known", "sum"), mean_turns=("_turns", "mean"),
        mean_user_words=("_uw", "mean"), mean_assistant_words=("_aw", "mean"),
        _uw_sum=("_uw", "sum"), _aw_sum=("_aw", "sum"), median_longest_run=("_run", "median"),
        user_silent=("_silent", "sum"), with_repeats=("_repeat", "sum"),
        mean_questions=("_q", "mean"), user_spoke_last=("_last", "sum"),
    ).reset_index()
    total = out["_uw_sum"] + out["_aw_sum"]
    out["assistant_word_pct"] = (100 * out["_aw_sum"] / total.mask(total == 0)).astype("Float64")
    out = out.astype({c: "Int64" for c in ("calls", "known", "user_silent", "with_repeats",
                                           "user_spoke_last")})
    out = out.astype({c: "Float64" for c in ("mean_turns", "mean_user_words",
                                             "mean_assistant_words", "median_longest_run",
                                             "mean_questions")})
    columns = ["calls", "known", "mean_turns", "mean_user_words", "mean_assistant_words",
               "assistant_word_pct", "median_longest_run", "user_silent", "with_repeats",
               "mean_questions", "user_spoke_last"]
    keys = [] if keys == ["_all"] else keys
    return out[[*keys, *columns]].reset_index(drop=True)


# --- consistency checks ---------------------------------------------------------

#: A goal reached in a call shorter than this many seconds is suspicious.
SHORT_CALL_S = 15.0
#: Mean compound score of the user's real turns at or below which the user's text is
#: "clearly negative" (four times VADER's 0.05 neutral band).
CLEARLY_NEGATIVE = -0.2
#: Summary wording that says the assistant could not help (case-insensitive).
UNABLE_TO_HELP = (r"\b(?:unable|not able|could ?n[o']t|failed|cannot|can't)\s+(?:to\s+)?"
                  r"(?:fully\s+)?(?:help|assist|address|resolve|answer)")


@dataclass(frozen=True)
class Rule:
    """A documented consistency check of the platform's labels against the transcript.

    Attributes:
        name: short identifier (a column of `consistency_flags`).
        description: what it flags and why, for the report.
        needs: columns of `consistency_inputs` that must be known for a call to be
            checked; calls missing one are not counted in `checked`.
        test: frame of `consistency_inputs` -> boolean Series, True where the call
            breaks the rule (only called on rows where `needs` are known).
    """

    name: str
    description: str
    needs: tuple[str, ...]
    test: Callable[[pd.DataFrame], pd.Series]


def _completed(status: pd.Series) -> pd.Series:
    return status.str.strip().str.lower() == "completed"


#: The rules `consistency_report` runs by default. Add one by appending a Rule.
RULES: tuple[Rule, ...] = (
    Rule("goal_without_user_words",
         "Goal achieved, yet the user said no real word (only placeholders, or nothing).",
         ("goal_achieved", "user_silent"),
         lambda f: f["goal_achieved"] & f["user_silent"]),
    Rule("goal_in_short_call",
         f"Goal achieved in a call shorter than {SHORT_CALL_S:g} seconds.",
         ("goal_achieved", "duration_s"),
         lambda f: f["goal_achieved"] & (f["duration_s"] < SHORT_CALL_S)),
    Rule("positive_label_negative_text",
         "Platform label 'positive' while the user's text is clearly negative (mean VADER "
         f"compound of the user's real turns <= {CLEARLY_NEGATIVE:g}).",
         ("sentiment", "user_compound"),
         lambda f: (f["sentiment"] == "positive") & (f["user_compound"] <= CLEARLY_NEGATIVE)),
    Rule("completed_without_turns",
         "Result status 'completed' but the conversation has no turns.",
         ("result_status", "n_turns"),
         lambda f: _completed(f["result_status"]) & (f["n_turns"] == 0)),
    Rule("unable_to_help_but_goal",
         "Goal achieved while the summary says the assistant was unable to help.",
         ("goal_achieved", "call_summary"),
         lambda f: f["goal_achieved"]
         & f["call_summary"].str.contains(UNABLE_TO_HELP, case=False, regex=True)),
)


def consistency_inputs(logs: CallLogs, *, measures: pd.DataFrame | None = None,
                       sentiment: pd.DataFrame | None = None) -> pd.DataFrame:
    """The per-call frame the rules look at: `calls`, the measures and text sentiment.

    Returns:
        One row per call: every `calls` column, the `conversation_measures` columns
        (calls.n_turns kept) and the `call_sentiment` columns user_scored_turns,
        user_compound, user_label, user_first_half, user_second_half, user_change.
    """
    measures = conversation_measures(logs) if measures is None else measures
    sentiment = text_sentiment.call_sentiment(logs) if sentiment is None else sentiment
    extra = measures.drop(columns=["call_id", "n_turns"]).reset_index(drop=True)
    feel = sentiment.drop(columns=["call_id", "sentiment"]).reset_index(drop=True)
    return pd.concat([logs.calls.reset_index(drop=True), extra, feel], axis=1)


def consistency_flags(logs: CallLogs, rules: Sequence[Rule] = RULES, *,
                      inputs: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per call, one boolean column per rule.

    Returns:
        call_id, then a column named after each rule: True where the call breaks it,
        False where it passes, NA where a column the rule needs is unknown.
    """
    frame = consistency_inputs(logs) if inputs is None else inputs
    out = pd.DataFrame({"call_id": frame["call_id"]})
    for rule in rules:
        checked = frame[list(rule.needs)].notna().all(axis=1).to_numpy(bool)
        flag = pd.array(np.zeros(len(frame), dtype=bool), dtype="boolean")
        if checked.any():
            result = rule.test(frame[checked])
            flag[checked] = pd.array(result, dtype="boolean").fillna(False)
        flag[~checked] = pd.NA
        out[rule.name] = flag
    return out


def consistency_report(logs: CallLogs, rules: Sequence[Rule] = RULES, *, examples: int = 3,
                       inputs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Count the calls whose labels disagree with their transcript, rule by rule.

    Args:
        logs: a load.
        rules: the rules to run (default `RULES`).
        examples: how many example call ids to list per rule.
        inputs: the result of `consistency_inputs(logs)`, to reuse it.

    Returns:
        One row per rule, in order: rule, description, calls (calls flagged),
        checked (calls whose needed columns are known), share (calls / checked; NA
        when none was checked), examples (the first flagged call ids in `calls` order,
        comma-separated; NA when none).
    """
    flags = consistency_flags(logs, rules, inputs=inputs)
    rows = []
    for rule in rules:
        flag = flags[rule.name]
        hit = flag.fillna(False).to_numpy(bool)
        ids = flags.loc[hit, "call_id"].head(examples).astype(str).tolist()
        rows.append((rule.name, rule.description, int(hit.sum()), int(flag.notna().sum()),
                     ", ".join(ids) if ids else pd.NA))
    table = pd.DataFrame(rows, columns=["rule", "description", "calls", "checked", "examples"])
    table = table.astype({"rule": "string", "description": "string", "calls": "Int64",
                          "checked": "Int64", "examples": "string"})
    table["share"] = (table["calls"] / table["checked"].mask(table["checked"] == 0)
                      ).astype("Float64")
    return table[["rule", "description", "calls", "checked", "share", "examples"]]


# --- what failed calls say ------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-cased words of a text: runs of letters/digits, inner apostrophes kept."""
    return [word.replace("’", "'") for word in _TOKEN.findall(text.lower())]


def log_odds_table(failed: pd.Series, succeeded: pd.Series, *,
                   prior_scale: float = 1.0) -> pd.DataFrame:
    """Weighted log-odds of each word in failed versus successful text (Monroe et al.).

    With counts y_f, y_s of a word in each group, totals n_f, n_s, and an informative
    Dirichlet prior a_w = prior_scale * (y_f + y_s) (the pooled counts; a_0 = sum a_w):

        delta = log((y_f + a_w) / (n_f + a_0 - y_f - a_w))
              - log((y_s + a_w) / (n_s + a_0 - y_s - a_w))
        se    = sqrt(1 / (y_f + a_w) + 1 / (y_s + a_w))
        z     = delta / se

    Args:
        failed, succeeded: word -> count Series.
        prior_scale: strength of the prior relative to the pooled counts.

    Returns:
        One row per word, z descending (most typical of failed calls first, ties by
        word): word, failed, succeeded (Int64 counts), log_odds, se, z (Float64).
    """
    counts = pd.concat([failed.rename("failed"), succeeded.rename("succeeded")], axis=1)
    counts = counts.fillna(0).astype("float64")
    y_f, y_s = counts["failed"].to_numpy(), counts["succeeded"].to_numpy()
    alpha = prior_scale * (y_f + y_s)
    alpha0 = alpha.sum()
    n_f, n_s = y_f.sum(), y_s.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (np.log((y_f + alpha) / (n_f + alpha0 - y_f - alpha))
                 - np.log((y_s + alpha) / (n_s + alpha0 - y_s - alpha)))
        se = np.sqrt(1 / (y_f + alpha) + 1 / (y_s + alpha))
    table = pd.DataFrame({
        "word": pd.array(counts.index.astype(str), dtype="string"),
        "failed": pd.array(y_f.astype("int64"), dtype="Int64"),
        "succeeded": pd.array(y_s.astype("int64"), dtype="Int64"),
        "log_odds": pd.array(np.where(np.isfinite(delta), delta, np.nan), dtype="Float64"),
        "se": pd.array(np.where(np.isfinite(se), se, np.nan), dtype="Float64"),
    })
    table["z"] = (table["log_odds"] / table["se"]).astype("Float64")
    return table.sort_values(["z", "word"], ascending=[False, True], kind="stable",
                             na_position="last").reset_index(drop=True)


def distinguishing_words(logs: CallLogs, *, roles: Sequence[str] = ("user", "assistant"),
                         prior_scale: float = 1.0, min_count: int = 1) -> pd.DataFrame:
    """Words that distinguish failed from successful calls, per role.

    Failed calls have goal_achieved False, successful ones True; calls with an unknown
    outcome are left out. Each role is compared on its own (what users say in failed
    calls, what the assistant says), with `log_odds_table`. Texts are tokenised once
    per distinct text.

    Args:
        logs: a load.
        roles: roles to compare.
        prior_scale: strength of the informative prior (see `log_odds_table`).
        min_count: drop words seen fewer times than this in both groups together.

    Returns:
        One row per role and word: role, word, failed, succeeded (word counts in
        failed/successful calls), log_odds, se, z. Rows of a role are sorted by z
        descending: positive z means typical of failed calls, negative of successful.
    """
    calls, turns = logs.calls, logs.turns
    pos = _call_positions(calls, turns)
    goal = calls["goal_achieved"]
    # 1 = failed, 0 = successful, -1 = outcome unknown (or a turn with no call).
    per_call = np.where(goal.isna(), -1, np.where(goal.fillna(False).astype(bool), 0, 1))
    outcome = np.where(pos >= 0, per_call[np.maximum(pos, 0)] if len(per_call) else -1, -1)
    real = ~turns["is_placeholder"].fillna(True).to_numpy(bool)
    frames = []
    for role in roles:
        mask = (turns["role"] == role).to_numpy(bool, na_value=False) & real & (outcome >= 0)
        chosen = pd.DataFrame({"content": turns["content"].to_numpy()[mask],
                               "failed": outcome[mask] == 1})
        per_text = chosen.groupby(["content", "failed"], sort=True).size().rename("turns")
        per_text = per_text.reset_index()
        texts = per_text["content"].drop_duplicates()
        words = pd.Series([tokenize(t) for t in texts], index=texts.to_numpy(), dtype=object)
        exploded = words.explode().dropna().rename("word").rename_axis("content").reset_index()
        weighted = per_text.merge(exploded, on="content")
        totals = weighted.groupby(["word", "failed"], sort=True)["turns"].sum()
        wide = totals.unstack("failed", fill_value=0).reindex(columns=[True, False],
                                                              fill_value=0)
        table = log_odds_table(wide[True], wide[False], prior_scale=prior_scale)
        table = table[(table["failed"] + table["succeeded"]) >= min_count]
        table.insert(0, "role", pd.array([role] * len(table), dtype="string"))
        frames.append(table)
    if not frames:
        empty = log_odds_table(pd.Series(dtype="float64"), pd.Series(dtype="float64"))
        empty.insert(0, "role", pd.array([], dtype="string"))
        return empty
    return pd.concat(frames, ignore_index=True)


# --- find and read --------------------------------------------------------------

FOUND_COLUMNS = ["call_id", "created_at", "agent_id", "goal_achieved", "sentiment", "turn",
                 "role", "content"]


def find_turns(logs: CallLogs, pattern: str, role: str | Sequence[str] | None = None, *,
               case: bool = False, regex: bool = True) -> pd.DataFrame:
    """Turns whose text matches `pattern`, with their call's agent, outcome and time.

    Args:
        logs: a load.
        pattern: regular expression (or plain text with `regex=False`), searched
            anywhere in the turn's content.
        role: keep only turns of this role (or these roles).
        case: match case; by default the search ignores case.
        regex: treat `pattern` as a regular expression.

    Returns:
        One row per matching turn, ordered by created_at, call_id, turn: call_id,
        created_at (UTC), agent_id, goal_achieved, sentiment (platform label), turn,
        role, content.
    """
    turns = logs.turns
    codes, uniques = pd.factorize(turns["content"])
    hits = pd.Series(uniques, dtype="string").str.contains(pattern, case=case, regex=regex)
    hit = np.append(hits.fillna(False).to_numpy(bool), False)[codes]  # -1 -> no match
    if role is not None:
        wanted = [role] if isinstance(role, str) else list(role)
        hit &= turns["role"].isin(wanted).to_numpy(bool)
    found = turns.loc[hit, ["call_id", "turn", "role", "content"]]
    context = logs.calls[["call_id", "created_at", "agent_id", "goal_achieved", "sentiment"]]
    context = context[context["call_id"].notna()].drop_duplicates("call_id")
    table = found.merge(context, on="call_id", how="left")
    table = table.sort_values(["created_at", "call_id", "turn"], kind="stable")
    return table[FOUND_COLUMNS].reset_index(drop=True)


class UnknownCallError(MalakaiError, LookupError):
    """No call with the given id in the load."""


def _fmt(value, pattern: str = "{}") -> str:
    return "NA" if pd.isna(value) else pattern.format(value)


@dataclass(frozen=True)
class Transcript:
    """A readable transcript of one call: HTML in a notebook, text in a terminal.

    Attributes:
        call_id: the call.
        header: (label, value) pairs describing the call, as text.
        summary: the platform's summary (NA when missing).
        turns: the call's turns (turn, role, content, is_placeholder), in order.
    """

    call_id: str
    header: tuple[tuple[str, str], ...]
    summary: object
    turns: pd.DataFrame

    def _lines(self, width: int = 88) -> list[str]:
        lines = [f"Call {self.call_id}"]
        line = ""
        for item in (f"{label}: {value}" for label, value in self.header):
            if line and len(line) + 3 + len(item) > width - 2:
                lines.append("  " + line)
                line = ""
            line = f"{line}   {item}" if line else item
        lines.append("  " + line)
        if not pd.isna(self.summary):
            lines += textwrap.wrap(f"summary: {self.summary}", width, initial_indent="  ",
                                   subsequent_indent="    ")
        if self.turns.empty:
            lines.append("  (no turns)")
        for turn, role, content, placeholder in self.turns.itertuples(index=False):
            head = f"  {_fmt(turn):>3} {_fmt(role):<10} "
            text = (f"(placeholder {content!r})" if placeholder and not pd.isna(content)
                    else "(no content)" if pd.isna(content) else " ".join(content.split()))
            wrapped = textwrap.wrap(text, max(width - len(head), 20)) or [""]
            lines.append(head + wrapped[0])
            lines += [" " * len(head) + rest for rest in wrapped[1:]]
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        head = " &middot; ".join(f"<b>{esc(label)}</b> {esc(value)}"
                                 for label, value in self.header)
        parts = ['<div class="malakai-transcript" style="font-family: system-ui, sans-serif; '
                 'max-width: 60rem;">',
                 f"<div><b>Call</b> <code>{esc(self.call_id)}</code></div>",
                 f'<div style="color: #444; margin: 0.2rem 0;">{head}</div>']
        if not pd.isna(self.summary):
            parts.append(f'<div style="color: #444; margin-bottom: 0.4rem;"><i>Summary:</i> '
                         f"{esc(str(self.summary))}</div>")
        parts.append('<table style="border-collapse: collapse;">')
        if self.turns.empty:
            parts.append('<tr><td style="color: #777;">(no turns)</td></tr>')
        for turn, role, content, placeholder in self.turns.itertuples(index=False):
            colour = {"user": "#eef4fb", "assistant": "#f6f6f6"}.get(str(role), "#fff8e6")
            if pd.isna(content):
                text = '<span style="color: #777;">(no content)</span>'
            elif placeholder:
                text = f'<span style="color: #777;">(placeholder {esc(repr(content))})</span>'
            else:
                text = esc(content)
            parts.append(f'<tr style="background: {colour};">'
                         f'<td style="padding: 0.2rem 0.5rem; color: #777; text-align: right;">'
                         f"{esc(_fmt(turn))}</td>"
                         f'<td style="padding: 0.2rem 0.5rem;"><b>{esc(_fmt(role))}</b></td>'
                         f'<td style="padding: 0.2rem 0.5rem; text-align: left;">{text}</td>'
                         "</tr>")
        parts += ["</table>", "</div>"]
        return "\n".join(parts)


def show_call(logs: CallLogs, call_id: str) -> Transcript:
    """A readable transcript of one call, with its labels.

    In a notebook the result renders as HTML; `print()` gives plain text. The output
    depends only on the data (no times of day, ids or addresses of its own).

    Raises:
        UnknownCallError: no call has this id.
    """
    calls = logs.calls
    match = calls[(calls["call_id"] == call_id).fillna(False).astype(bool)]
    if match.empty:
        raise UnknownCallError(f"no call with id {call_id!r} in these logs "
                               f"({len(calls)} calls); check the id or the filters")
    call = match.iloc[0]
    goal = call["goal_achieved"]
    header = (
        ("agent", _fmt(call["agent_id"])),
        ("created", _fmt(call["created_at"], "{:%Y-%m-%d %H:%M:%S} UTC")),
        ("duration", _fmt(call["duration_s"], "{:g} s")),
        ("goal achieved", "NA" if pd.isna(goal) else ("yes" if goal else "no")),
        ("sentiment", _fmt(call["sentiment"])),
        ("status", _fmt(call["result_status"])),
        ("turns", _fmt(call["n_turns"])),
    )
    turns = logs.turns
    own = turns[(turns["call_id"] == call_id).fillna(False).astype(bool)]
    own = own.sort_values("turn", kind="stable")[["turn", "role", "content", "is_placeholder"]]
    return Transcript(str(call_id), header, call["call_summary"], own.reset_index(drop=True))


# --- report section -------------------------------------------------------------

def conversation_section(logs: CallLogs, labels=None) -> Section:
    """The report's "Inside the calls" section: measures, consistency, distinguishing words."""
    from matplotlib.figure import Figure

    from . import plots

    measures = conversation_measures(logs)
    sentiment = text_sentiment.call_sentiment(logs)
    inputs = consistency_inputs(logs, measures=measures, sentiment=sentiment)
    agreement = text_sentiment.sentiment_agreement(logs, sentiment=sentiment)
    report = consistency_report(logs, inputs=inputs)
    words = distinguishing_words(logs)
    figure = Figure(figsize=(10, 4.8), layout="constrained")
    for ax, role in zip(figure.subplots(1, 2), ("user", "assistant")):
        plots.plot_distinguishing_words(words, role=role, ax=ax)
    kappa = "NA" if np.isnan(agreement.kappa) else f"{agreement.kappa:.2f}"
    intro = (
        "Measures read from the transcripts themselves, and checks of the platform's labels "
        "against them. The user's text sentiment (VADER, mean over the user's real turns) "
        f"agrees with the platform's sentiment label on {_fmt(agreement.agreement, '{:.0%}')} "
        f"of {agreement.calls} calls (Cohen's kappa {kappa}). Each consistency rule counts "
        "the calls it flags among the calls where it can be checked."
    )
    return Section(
        "Inside the calls",
        intro,
        charts={"distinguishing_words": figure},
        tables={"conversation_by_goal": conversation_summary(logs, measures=measures),
                "consistency_report": report},
        captions={"distinguishing_words": "Words typical of failed calls (orange, right) and "
                  "of successful calls (blue, left), per role: weighted log-odds z-scores "
                  "with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008). "
                  "|z| above 1.96 (dashed) is unlikely to be chance."},
    )


