"""Sentiment read from the transcript itself, to check the platform's label against.

The scores come from VADER (`vaderSentiment`), a rule-based lexicon model whose lexicon
ships inside the package: nothing is downloaded at run time and the same text always
gets the same score. VADER's `compound` score runs from -1 (most negative) to +1 (most
positive); following its authors, a compound of 0.05 or more reads as positive, -0.05
or less as negative, and anything in between as neutral.

Texts are scored once per distinct text (transcripts repeat a lot: greetings,
closings, templates), then the scores are spread back to every turn. Turns that carry
no word (placeholders such as `"---"`) get no score (NA), never 0.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .loader import CallLogs
from .schema import SENTIMENT_DTYPE, SENTIMENTS

#: Compound score at or above which a text reads as positive (VADER's convention).
POSITIVE_THRESHOLD = 0.05
#: Compound score at or below which a text reads as negative (VADER's convention).
NEGATIVE_THRESHOLD = -0.05

#: Columns of `call_sentiment`, with their dtypes and meaning.
CALL_SENTIMENT_COLUMNS = {
    "call_id": ("string", "Joins to `calls.call_id`."),
    "sentiment": ("ordered category", "The platform's label (copied from `calls`)."),
    "user_scored_turns": ("Int64", "User turns with words, i.e. with a score."),
    "user_compound": ("Float64", "Mean compound score of those turns; NA when there are none."),
    "user_label": ("ordered category", "`user_compound` read with VADER's +/-0.05 thresholds."),
    "user_first_half": ("Float64", "Mean user compound over turns in the first half of the call."),
    "user_second_half": ("Float64", "Mean user compound over turns in the second half."),
    "user_change": ("Float64", "`user_second_half - user_first_half`; NA unless both exist."),
}


@lru_cache(maxsize=1)
def _analyzer():
    """The VADER analyser, built once (it reads its bundled lexicon files)."""
    with warnings.catch_warnings():
        # vaderSentiment 3.3.2 reads its lexicon with codecs.open(), which Python 3.14
        # deprecates; the warning is about the library's file reading, not about our
        # data, so only that one message is silenced, only here.
        warnings.filterwarnings("ignore", message=r".*codecs\.open\(\)",
                                category=DeprecationWarning)
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return SentimentIntensityAnalyzer()


def score_texts(texts: pd.Series) -> pd.Series:
    """VADER compound score of each text, computed once per distinct text.

    Args:
        texts: any Series of text (NA allowed).

    Returns:
        A Float64 Series on the same index: the compound score in [-1, 1]; NA for a
        missing text or a text with no word (no letter, digit or underscore).
    """
    text = texts.astype("string")
    codes, uniques = pd.factorize(text)
    if len(uniques) == 0:
        return pd.Series(pd.array(np.full(len(text), np.nan), dtype="Float64"),
                         index=texts.index)
    polarity = _analyzer().polarity_scores
    has_word = pd.Series(uniques).str.contains(r"\w", regex=True).to_numpy(bool)
    scores = np.full(len(uniques) + 1, np.nan)  # the last slot stands for NA (code -1)
    scores[:-1] = [polarity(value)["compound"] if word else np.nan
                   for value, word in zip(uniques, has_word)]
    values = scores[codes]  # code -1 picks the NA slot
    return pd.Series(pd.array(values, dtype="Float64"), index=texts.index)


def sentiment_label(compound: pd.Series) -> pd.Series:
    """Compound scores read as negative / neutral / positive (VADER's thresholds).

    Returns:
        An ordered categorical Series with the platform's label categories
        (negative < neutral < positive); NA where the score is NA.
    """
    values = compound.astype("Float64").to_numpy("float64", na_value=np.nan)
    codes = np.where(values >= POSITIVE_THRESHOLD, 2,
                     np.where(values <= NEGATIVE_THRESHOLD, 0, 1))
    codes = np.where(np.isnan(values), -1, codes)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=SENTIMENT_DTYPE),
                     index=compound.index)


def turn_sentiment(turns: pd.DataFrame) -> pd.DataFrame:
    """Per-turn text sentiment.

    Args:
        turns: the `turns` frame of `load_logs`.

    Returns:
        One row per turn, same order: call_id, turn, role, compound (Float64, NA for
        placeholders) and label (ordered category negative < neutral < positive).
    """
    compound = score_texts(turns["content"])
    compound = compound.mask(turns["is_placeholder"].fillna(True).astype(bool))
    return pd.DataFrame({
        "call_id": turns["call_id"],
        "turn": turns["turn"],
        "role": turns["role"],
        "compound": compound,
        "label": sentiment_label(compound),
    }).reset_index(drop=True)


def _call_positions(calls: pd.DataFrame, turns: pd.DataFrame) -> np.ndarray:
    """Row of `calls` each turn belongs to (-1 when its call id is missing or unknown)."""
    ids = calls["call_id"]
    lookup = pd.Series(np.arange(len(calls)), index=pd.Index(ids))
    lookup = lookup[lookup.index.notna() & ~lookup.index.duplicated()]
    where = pd.Index(lookup.index).get_indexer(turns["call_id"])
    return np.where(where >= 0, lookup.to_numpy()[where], -1)


def call_sentiment(logs: CallLogs, *, turn_scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """The user side's text sentiment per call, next to the platform's label.

    The first half of a call holds its turns at positions below n/2 (n = turns in the
    call; the middle turn of an odd call is in the first half), the second half the
    rest. Only user turns with words count.

    Args:
        logs: a load.
        turn_scores: the result of `turn_sentiment(logs.turns)`, to reuse it.

    Returns:
        One row per call, in `calls` order: call_id, sentiment (platform label),
        user_scored_turns, user_compound, user_label, user_first_half,
        user_second_half, user_change (see `CALL_SENTIMENT_COLUMNS`).
    """
    calls, turns = logs.calls, logs.turns
    scores = turn_sentiment(turns) if turn_scores is None else turn_scores
    n = len(calls)
    pos = _call_positions(calls, turns)
    compound = scores["compound"].to_numpy("float64", na_value=np.nan)
    user = (turns["role"] == "user").fillna(False).to_numpy(bool)
    keep = (pos >= 0) & user & ~np.isnan(compound)
    per_call = np.bincount(pos[pos >= 0], minlength=n)  # turns of each call
    position = turns["turn"].to_numpy("float64", na_value=np.nan)
    first = np.zeros(len(turns), dtype=bool)
    first[keep] = 2 * position[keep] < per_call[pos[keep]]

    def mean(mask):
        count = np.bincount(pos[mask], minlength=n)
        total = np.bincount(pos[mask], weights=compound[mask], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)
        return count, pd.array(value, dtype="Float64")

    scored, overall = mean(keep)
    _, first_half = mean(keep & first)
    _, second_half = mean(keep & ~first)
    table = pd.DataFrame({
        "call_id": calls["call_id"].to_numpy(),
        "sentiment": calls["sentiment"].to_numpy(),
        "user_scored_turns": pd.array(scored, dtype="Int64"),
        "user_compound": overall,
        "user_first_half": first_half,
        "user_second_half": second_half,
    })
    table["call_id"] = table["call_id"].astype("string")
    table["sentiment"] = table["sentiment"].astype(SENTIMENT_DTYPE)
    table["user_label"] = sentiment_label(table["user_compound"])
    table["user_change"] = table["user_second_half"] - table["user_first_half"]
    return table[list(CALL_SENTIMENT_COLUMNS)]


def cohens_kappa(table) -> float:
    """Cohen's kappa of a square agreement table (rows: one rater, columns: the other).

    kappa = (p_o - p_e) / (1 - p_e), with p_o the share on the diagonal and p_e the
    agreement expected from the margins alone. NA (nan) when the table is empty or
    when p_e is 1 (both raters always give the same single label).
    """
    counts = np.asarray(table, dtype="float64")
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"kappa needs a square table, got shape {counts.shape}")
    total = counts.sum()
    if total == 0:
        return float("nan")
    observed = np.trace(counts) / total
    expected = float(counts.sum(axis=1) @ counts.sum(axis=0)) / total**2
    if expected == 1:
        return float("nan")
    return float((observed - expected) / (1 - expected))


@dataclass(frozen=True)
class SentimentAgreement:
    """How the platform's label agrees with the user's text sentiment.

    Attributes:
        table: calls per platform label (rows, `platform`) and text label (columns),
            every label present, over the calls where both are known.
        calls: calls in the table.
        agreement: share of them on the diagonal.
        kappa: Cohen's kappa (agreement beyond what the margins give by chance).
    """

    table: pd.DataFrame
    calls: int
    agreement: float
    kappa: float

    def __repr__(self) -> str:
        return (f"SentimentAgreement(calls={self.calls}, agreement={self.agreement:.3f}, "
                f"kappa={self.kappa:.3f})")


def sentiment_agreement(logs: CallLogs, *, sentiment: pd.DataFrame | None = None
                        ) -> SentimentAgreement:
    """Cross-table and Cohen's kappa of the platform label against the text label.

    Args:
        logs: a load.
        sentiment: the result of `call_sentiment(logs)`, to reuse it.

    Returns:
        A SentimentAgreement over the calls with both a platform label and a user
        text label (the user said at least one real word).
    """
    frame = call_sentiment(logs) if sentiment is None else sentiment
    both = frame[frame["sentiment"].notna() & frame["user_label"].notna()]
    table = pd.crosstab(both["sentiment"].rename("platform"),
                        both["user_label"].rename("text"), dropna=False)
    table = table.reindex(index=list(SENTIMENTS), columns=list(SENTIMENTS), fill_value=0)
    table.index = pd.CategoricalIndex(table.index, dtype=SENTIMENT_DTYPE, name="platform")
    table.columns = pd.CategoricalIndex(table.columns, dtype=SENTIMENT_DTYPE, name="text")
    table = table.astype("int64")
    n = int(table.to_numpy().sum())
    agreement = float(np.trace(table.to_numpy()) / n) if n else float("nan")
    return SentimentAgreement(table, n, agreement, cohens_kappa(table.to_numpy()))
