"""Field parsers: duration, yes/no, sentiment label, timestamps, conversation.

Each Series parser takes the raw values of one field (any Python objects, as they came
out of the JSON) and returns the parsed Series plus a boolean mask of the values that
were present but unreadable. The loader turns that mask into `problems` rows; the
parsers themselves never raise on bad data and know nothing of frames.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from .schema import SENTIMENT_DTYPE, UTC_TIME

# --- shared ----------------------------------------------------------------------

def _label_keys(raw: pd.Series) -> pd.Series:
    """Stripped, lower-cased text of each value; NA for None."""
    return pd.Series(raw, dtype="object").astype("string").str.strip().str.lower()


# --- durations -------------------------------------------------------------------

_SECONDS_PER_UNIT = {
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 0.001, "msec": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
}
_UNIT = "|".join(sorted(_SECONDS_PER_UNIT, key=len, reverse=True))
_NUMBER = r"\d+(?:\.\d+)?|\.\d+"
# The common "210 seconds" / "210s" / "210" form, handled vectorised.
_PLAIN_SECONDS = re.compile(rf"^({_NUMBER})\s*(?:s|secs?|seconds?)?$")
_PART = re.compile(rf"({_NUMBER})\s*({_UNIT})\b")
_PARTS = re.compile(rf"^(?:(?:{_NUMBER})\s*(?:{_UNIT})\b[\s,]*(?:and\s+)?)+$")
_CLOCK = re.compile(r"^(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$")


def parse_duration_text(text: str) -> float | None:
    """Parse one human-readable duration into seconds, or None when unreadable.

    Accepts "210 seconds", "210 sec", "210s", "210", "3 min 30 s",
    "3 minutes and 30 seconds", "3.5 minutes", "1 hour 2 minutes", "00:03:30"
    (h:m:s) and "3:30" (m:s), in any case and with surrounding spaces.
    """
    text = text.strip().lower()
    match = _PLAIN_SECONDS.match(text)
    if match:
        return float(match.group(1))
    match = _CLOCK.match(text)
    if match:
        first, second, third = match.groups()
        if third is None:  # m:ss
            minutes, seconds = float(first), float(second)
            return minutes * 60 + seconds if seconds < 60 else None
        hours, minutes, seconds = float(first), float(second), float(third)
        if minutes >= 60 or seconds >= 60:
            return None
        return hours * 3600 + minutes * 60 + seconds
    if _PARTS.match(text):
        parts = _PART.findall(text)
        units = [_SECONDS_PER_UNIT[unit] for _, unit in parts]
        if len(set(units)) != len(units):  # "3 min 2 min" is not a duration
            return None
        return sum(float(number) * unit for (number, _), unit in zip(parts, units))
    return None


def parse_durations(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse `call_duration` values into seconds.

    Numbers are taken as seconds. Everything goes through its text: a vectorised fast
    path reads the common "N seconds" form, and `parse_duration_text` (once per
    distinct value) the rest. `""`, whitespace and None are missing, not problems.

    Returns:
        (Float64 Series of seconds, mask of present-but-unreadable values).
    """
    text = _label_keys(raw)
    blank = (text.isna() | (text == "")).to_numpy(bool)
    seconds = text.str.extract(_PLAIN_SECONDS, expand=False).astype("Float64")
    rest = text[seconds.isna().to_numpy(bool) & ~blank]
    if len(rest):
        mapping = {value: parse_duration_text(value) for value in rest.unique()}
        seconds[rest.index] = rest.map(mapping).astype("Float64")
    bad = ~blank & seconds.isna().to_numpy(bool)
    return seconds, bad


# --- labels ----------------------------------------------------------------------

YES_NO = {
    "yes": True, "y": True, "true": True, "1": True,
    "no": False, "n": False, "false": False, "0": False,
}


def parse_yes_no(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse yes/no outcomes: yes/no/true/false/1/0/y/n in any case, and booleans.

    Returns:
        (boolean Series, mask of present-but-unreadable values). `""` and None are NA
        without a problem.
    """
    keys = _label_keys(raw)
    parsed = keys.map(YES_NO).astype("boolean")
    bad = (keys.notna() & (keys != "") & parsed.isna()).fillna(False).to_numpy(bool)
    return parsed, bad


def parse_sentiments(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse sentiment labels (stripped, lower-cased) into the ordered categorical.

    Returns:
        (ordered categorical Series, mask of present-but-unknown labels).
    """
    keys = _label_keys(raw)
    known = keys.where(keys.isin(SENTIMENT_DTYPE.categories))
    parsed = known.astype(SENTIMENT_DTYPE)
    bad = (keys.notna() & (keys != "") & parsed.isna()).fillna(False).to_numpy(bool)
    return parsed, bad


def parse_timestamps(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse ISO 8601 timestamps, with or without fractional seconds, into UTC.

    Naive values are taken as UTC. `""` and None give NaT without a problem.

    Returns:
        (datetime64[us, UTC] Series, mask of present-but-unreadable values).
    """
    text = pd.Series(raw, dtype="object").astype("string").str.strip()
    blank = text.isna() | (text == "")
    parsed = pd.to_datetime(text.where(~blank), format="ISO8601", utc=True, errors="coerce")
    parsed = parsed.astype(UTC_TIME)
    bad = (~blank & parsed.isna()).fillna(False).to_numpy(bool)
    return parsed, bad


# --- conversation ----------------------------------------------------------------

def decode_conversation(value: Any) -> tuple[list | None, str | None]:
    """Decode one `test_result.conversation` value into a list of messages.

    The API sends the conversation as a JSON-encoded string; an already-decoded list
    is accepted as is. None and `""` mean no conversation.

    Returns:
        (messages, problem): messages is a list (possibly empty) or None when the value
        could not be read, in which case problem is a short code.
    """
    if value is None:
        return [], None
    if isinstance(value, list):
        return value, None
    if isinstance(value, str):
        if not value.strip():
            return [], None
        try:
            decoded = json.loads(value)
        except ValueError:
            return None, "invalid_json"
        if isinstance(decoded, list):
            return decoded, None
        if decoded is None:
            return [], None
        return None, "invalid_conversation"
    return None, "invalid_conversation"


# Words are whitespace-separated tokens that hold at least one letter or digit, so a
# placeholder such as "---" counts 0 words.
_WORD = r"\S*\w\S*"
_WORD_RE = re.compile(_WORD)


def count_words(content: pd.Series) -> pd.Series:
    """Words per message: whitespace-separated tokens holding a letter or digit."""
    return content.astype("string").str.count(_WORD).astype("Int64")


def count_words_text(text: str) -> int:
    """Words in one message, as `count_words` counts them (pandas' str.count runs
    Python's `re` for this pattern: len(findall))."""
    return len(_WORD_RE.findall(text))


def as_text(value: Any) -> str:
    """A raw value as text for the `problems.value` column."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)
