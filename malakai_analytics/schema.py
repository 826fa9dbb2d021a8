"""The one place where every table's columns and dtypes are declared.

Every frame the package returns (`calls`, `turns`, `problems`) gets its column order
and dtypes from here, so an empty load and a full load look the same to the caller.
"""

from __future__ import annotations

import pandas as pd

#: Platform sentiment labels, ordered from worst to best.
SENTIMENTS = ("negative", "neutral", "positive")
SENTIMENT_DTYPE = pd.CategoricalDtype(list(SENTIMENTS), ordered=True)

#: Roles every conversation is expected to carry; other roles found in a log are
#: appended to the categories after these (sorted), never dropped.
KNOWN_ROLES = ("user", "assistant")

UTC_TIME = "datetime64[us, UTC]"

#: calls: one row per call log.
CALLS = {
    "call_id": "string",
    "workflow_id": "string",
    "agent_id": "string",
    "created_at": UTC_TIME,
    "updated_at": UTC_TIME,
    "status": "string",
    "result_status": "string",
    "sentiment": SENTIMENT_DTYPE,
    "goal_achieved": "boolean",
    "duration_s": "Float64",
    "n_turns": "Int64",
    "n_user_turns": "Int64",
    "n_assistant_turns": "Int64",
    "tester_name": "string",
    "tester_phone": "string",
    "tester_email": "string",
    "contact_name": "string",
    "contact_email": "string",
    "contact_address": "string",
    "contact_id": "string",
    "call_sid": "string",
    "session_id": "string",
    "result_session_id": "string",
    "call_summary": "string",
    "recording_url": "string",
}

#: turns: one row per message of a conversation, in order.
TURNS = {
    "call_id": "string",
    "turn": "Int64",
    "role": pd.CategoricalDtype(list(KNOWN_ROLES)),
    "content": "string",
    "n_words": "Int64",
    "is_placeholder": "boolean",
}

#: problems: one row per value that could not be read as its column expects.
PROBLEMS = {
    "call_id": "string",
    "field": "string",
    "problem": "string",
    "value": "string",
}

#: Where each `calls` string column comes from in a raw log (dotted path).
CALL_SOURCE_FIELDS = {
    "call_id": "id",
    "workflow_id": "workflow_id",
    "agent_id": "agent_id",
    "status": "status",
    "session_id": "session_id",
    "tester_name": "tester_name",
    "tester_phone": "tester_phone",
    "tester_email": "tester_email",
    "result_status": "test_result.status",
    "contact_name": "test_result.name",
    "contact_email": "test_result.email",
    "contact_address": "test_result.address",
    "contact_id": "test_result.contact_id",
    "call_sid": "test_result.call_sid",
    "result_session_id": "test_result.session_id",
    "call_summary": "test_result.call_summary",
    "recording_url": "test_result.recording_url",
}

#: One-line meaning of every column, used by the README's data dictionary and
#: the report's data dictionary file.
DESCRIPTIONS = {
    "calls": {
        "call_id": "The log's `id`; unique after de-duplication.",
        "workflow_id": "Workflow the test call belongs to.",
        "agent_id": "Voice agent under test.",
        "created_at": "When the log was created (UTC).",
        "updated_at": "When the log was last updated (UTC); the newest copy of an id wins.",
        "status": "Top-level status of the log.",
        "result_status": "`test_result.status`, the call's own status.",
        "sentiment": "Platform sentiment label, ordered negative < neutral < positive.",
        "goal_achieved": "Whether the call reached its goal (yes/no/true/false/1/0/y/n); NA when unknown.",
        "duration_s": "Call length in seconds, parsed from `call_duration` (never from the timestamps).",
        "n_turns": "Messages in the conversation; NA when it is missing or unreadable.",
        "n_user_turns": "Messages with role `user` (placeholders included).",
        "n_assistant_turns": "Messages with role `assistant`.",
        "tester_name": "Who ran the test.",
        "tester_phone": "Tester's phone number.",
        "tester_email": "Tester's e-mail address.",
        "contact_name": "`test_result.name`, the test persona.",
        "contact_email": "`test_result.email`.",
        "contact_address": "`test_result.address`.",
        "contact_id": "`test_result.contact_id`.",
        "call_sid": "Twilio call SID: the join key to telephony data.",
        "session_id": "Top-level `session_id`.",
        "result_session_id": "`test_result.session_id`.",
        "call_summary": "Platform-written summary of the call.",
        "recording_url": "Link to the call recording.",
    },
    "turns": {
        "call_id": "Joins to `calls.call_id`.",
        "turn": "0-based position of the message in its call.",
        "role": "`user`, `assistant`, or any other role the log carries.",
        "content": "Message text exactly as logged (nothing stripped).",
        "n_words": "Whitespace-separated words that contain a letter or digit.",
        "is_placeholder": "True when the message carries no words (e.g. `---`, `\"\"`).",
    },
    "problems": {
        "call_id": "Call the value belongs to; NA when the record has no id.",
        "field": "Source field, dotted (`test_result.call_duration`).",
        "problem": "Short code: invalid_json, unknown_duration, unknown_label, ...",
        "value": "The raw value, as text.",
    },
}

TABLES = {"calls": CALLS, "turns": TURNS, "problems": PROBLEMS}


def empty_frame(table: str) -> pd.DataFrame:
    """Return a 0-row frame with the columns and dtypes of `table`.

    Args:
        table: "calls", "turns" or "problems".
    """
    spec = TABLES[table]
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in spec.items()})


def conform(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Return `frame` with exactly the columns of `table`, in order, with its dtypes.

    Missing columns are added as all-NA. Categorical role columns keep any extra
    roles found in the data, after the known ones.
    """
    spec = TABLES[table]
    out = {}
    n = len(frame)
    for name, dtype in spec.items():
        col = frame[name] if name in frame.columns else pd.Series([pd.NA] * n, index=frame.index)
        if name == "role":
            col = as_role(col)
        elif str(col.dtype) != str(dtype):
            col = col.astype(dtype)
        out[name] = col
    result = pd.DataFrame(out, index=frame.index)
    return result.reset_index(drop=True)


def as_role(values: pd.Series) -> pd.Series:
    """Return `values` as the role categorical: known roles first, extras sorted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = [str(c) for c in values.cat.categories]
        values = values.astype("object")
    else:
        present = values.dropna().unique().tolist()
    extras = sorted({str(v) for v in present} - set(KNOWN_ROLES))
    return values.astype(pd.CategoricalDtype(list(KNOWN_ROLES) + extras))
