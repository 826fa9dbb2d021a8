"""Source -> records -> CallLogs(calls, turns, problems).

`load_logs` accepts every shape a Malakai export takes: one envelope, a list of
envelopes, a bare list of logs, JSON Lines with one log or one envelope per line, the
files written by `malakai-analytics fetch`, or several of these at once. Columns are
built straight from the records in one pass (no json_normalize then fix-ups), and every
value that cannot be read becomes NA plus a row in `problems`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import parsing
from .errors import SourceError
from .schema import CALL_SOURCE_FIELDS, conform, empty_frame

logger = logging.getLogger(__name__)

SUCCESS_CODES = (2000, "2000")

EXPECTED_SHAPE = (
    "expected a workflow-logs envelope {responseCode, message, data: [...]}, "
    "a list of envelopes, a list of call logs, or JSON Lines of either"
)

# Fields whose absence is reported as a `missing_field` problem (a null test_result
# is reported the same way). Other absent fields are simply NA.
REQUIRED_TOP = ("id", "created_at", "updated_at", "test_result")
REQUIRED_RESULT = ("sentiment", "goal_achieved", "call_duration")


@dataclass(frozen=True)
class CallLogs:
    """The three tidy tables of a load.

    Attributes:
        calls: one row per call log (see README's data dictionary).
        turns: one row per message of a conversation, in order.
        problems: one row per value that could not be read.
    """

    calls: pd.DataFrame
    turns: pd.DataFrame
    problems: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"CallLogs(calls={len(self.calls)}, turns={len(self.turns)}, "
            f"problems={len(self.problems)})"
        )

    def filter(
        self,
        *,
        since: Any = None,
        until: Any = None,
        agents: Iterable[str] | str | None = None,
        workflows: Iterable[str] | str | None = None,
    ) -> CallLogs:
        """Keep the calls created in [since, until) of the given agents and workflows.

        Args:
            since: first instant kept (inclusive); a date string is midnight UTC.
            until: first instant dropped (exclusive).
            agents: agent id or ids to keep; None keeps all.
            workflows: workflow id or ids to keep; None keeps all.

        Returns:
            A CallLogs whose turns and problems follow the kept calls (problems of
            records with no id are kept).
        """
        calls = self.calls
        keep = pd.Series(True, index=calls.index)
        if since is not None:
            keep &= (calls["created_at"] >= _utc(since)).fillna(False)
        if until is not None:
            keep &= (calls["created_at"] < _utc(until)).fillna(False)
        if agents is not None:
            keep &= calls["agent_id"].isin(_as_list(agents)).fillna(False)
        if workflows is not None:
            keep &= calls["workflow_id"].isin(_as_list(workflows)).fillna(False)
        kept = calls[keep.astype(bool)].reset_index(drop=True)
        ids = kept["call_id"]
        turns = self.turns[self.turns["call_id"].isin(ids).fillna(False).astype(bool)]
        problems = self.problems
        in_scope = problems["call_id"].isna() | problems["call_id"].isin(ids)
        return CallLogs(
            kept,
            turns.reset_index(drop=True),
            problems[in_scope.astype(bool)].reset_index(drop=True),
        )


def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _as_list(value: Iterable[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# --- reading sources ---------------------------------------------------------------

class _Collector:
    """Gathers raw logs and source-level problems from any mix of sources."""

    def __init__(self) -> None:
        self.logs: list[dict] = []
        self.problems: list[tuple[Any, str, str, str]] = []

    def add_source(self, source: Any) -> None:
        if isinstance(source, (str, os.PathLike)):
            self.add_path(Path(source))
        elif isinstance(source, dict):
            self.add_document(source, "<dict>")
        elif isinstance(source, (list, tuple)):
            if source and all(isinstance(s, (str, os.PathLike)) for s in source):
                for item in source:
                    self.add_path(Path(item))
            else:
                self.add_document(list(source), "<list>")
        else:
            raise SourceError(
                f"cannot load a {type(source).__name__}: pass a path, an envelope dict, "
                "a list of logs, or a list of these"
            )

    def add_path(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SourceError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise SourceError(f"{path}: is a folder; {EXPECTED_SHAPE}") from None
        except UnicodeDecodeError:
            raise SourceError(f"{path}: not UTF-8 text; {EXPECTED_SHAPE}") from None
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            self.add_json_lines(text, path)
            return
        try:
            document = json.loads(text)
        except ValueError as error:
            # A .json file that is really JSON Lines is still readable.
            if "Extra data" in str(error) and self._try_json_lines(text, path):
                return
            raise SourceError(f"{path}: not valid JSON ({error}); {EXPECTED_SHAPE}") from None
        self.add_document(document, str(path))

    def _try_json_lines(self, text: str, path: Path) -> bool:
        before = (len(self.logs), len(self.problems))
        try:
            self.add_json_lines(text, path)
        except SourceError:
            del self.logs[before[0]:], self.problems[before[1]:]
            return False
        return True

    def add_json_lines(self, text: str, path: Path) -> None:
        read = failed = 0
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                document = json.loads(line)
            except ValueError:
                failed += 1
                self.problems.append((pd.NA, f"line {number}", "invalid_json", line))
                continue
            read += 1
            self.add_document(document, f"{path} line {number}")
        if failed and not read:
            raise SourceError(f"{path}: no line is valid JSON; {EXPECTED_SHAPE}")

    def add_document(self, document: Any, origin: str) -> None:
        if isinstance(document, dict):
            if _is_fetch_record(document):
                document = document["response"]
            if _is_envelope(document):
                self.add_envelope(document, origin)
            elif _looks_like_log(document):
                self.logs.append(document)
            else:
                raise SourceError(f"{origin}: a JSON object that is not a log; {EXPECTED_SHAPE}")
        elif isinstance(document, list):
            if document and not any(isinstance(item, dict) for item in document):
                raise SourceError(f"{origin}: a list with no JSON objects; {EXPECTED_SHAPE}")
            for item in document:
                if isinstance(item, dict) and (_is_envelope(item) or _is_fetch_record(item)):
                    self.add_document(item, origin)
                else:
                    self.add_log(item)
        else:
            raise SourceError(
                f"{origin}: a JSON {type(document).__name__}, not an object or list; "
                f"{EXPECTED_SHAPE}"
            )

    def add_envelope(self, envelope: dict, origin: str) -> None:
        code = envelope.get("responseCode")
        if "responseCode" in envelope and code not in SUCCESS_CODES:
            message = envelope.get("message")
            self.problems.append(
                (pd.NA, "responseCode", "failed_response", f"{code}: {message}")
            )
            logger.warning("%s: envelope with responseCode %r: %s", origin, code, message)
        data = envelope.get("data")
        if data is None:
            return
        if not isinstance(data, list):
            raise SourceError(
                f"{origin}: envelope 'data' is a {type(data).__name__}, expected a list of logs"
            )
        for item in data:
            self.add_log(item)

    def add_log(self, item: Any) -> None:
        if isinstance(item, dict):
            self.logs.append(item)
        else:
            self.problems.append((pd.NA, "data[]", "invalid_record", parsing.as_text(item)))


def _is_envelope(document: dict) -> bool:
    return "data" in document and ("responseCode" in document or "message" in document)


def _is_fetch_record(document: dict) -> bool:
    """The shape `malakai-analytics fetch` saves: the envelope under 'response'."""
    return isinstance(document.get("response"), dict) and "workflow_id" in document


def _looks_like_log(document: dict) -> bool:
    return "id" in document or "test_result" in document


# --- records to tables -------------------------------------------------------------

def load_logs(source: Any) -> CallLogs:
    """Load Malakai workflow logs into tidy tables.

    Args:
        source: a path to a .json file (one envelope, a list of envelopes or a bare
            list of logs) or a .jsonl/.ndjson file (one log or envelope per line); an
            envelope dict; a list of log dicts; or a list of paths.

    Returns:
        CallLogs with
        `calls` (call_id, workflow_id, agent_id, created_at, updated_at, status,
        result_status, sentiment, goal_achieved, duration_s, n_turns, n_user_turns,
        n_assistant_turns, tester_name, tester_phone, tester_email, contact_name,
        contact_email, contact_address, contact_id, call_sid, session_id,
        result_session_id, call_summary, recording_url),
        `turns` (call_id, turn, role, content, n_words, is_placeholder) and
        `problems` (call_id, field, problem, value).

    Raises:
        SourceError: the source as a whole is unreadable (names the file and the
            expected shape). Bad records never raise.
    """
    records, problems = read_records(source)
    logs = tables_from_records(records, problems)
    logger.info("loaded %r", logs)
    return logs


def read_records(source: Any) -> tuple[list[dict], list[tuple]]:
    """The raw log dicts of `source` (any shape `load_logs` reads) and the
    source-level problem rows (call_id, field, problem, value) met on the way.

    Raises:
        SourceError: the source as a whole is unreadable.
    """
    collector = _Collector()
    collector.add_source(source)
    return collector.logs, collector.problems


def tables_from_records(
    records: list[dict], source_problems: list[tuple] | None = None
) -> CallLogs:
    """Build the three tables from raw log dicts (the core of `load_logs`)."""
    problems = _Problems()
    for row in source_problems or ():
        problems.add_one(*row)
    n = len(records)
    if n == 0:
        return CallLogs(empty_frame("calls"), empty_frame("turns"), problems.frame())

    ids = pd.Series([r.get("id") for r in records], dtype="object")
    call_ids = _text_column(ids)

    results, has_result = _results(records, call_ids, problems)
    _report_missing(records, results, has_result, call_ids, problems)

    columns: dict[str, Any] = {"call_id": call_ids}
    for column, field in CALL_SOURCE_FIELDS.items():
        if column == "call_id":
            continue
        holder, key = (results, field.split(".", 1)[1]) if "." in field else (records, field)
        columns[column] = _text_column(pd.Series([r.get(key) for r in holder], dtype="object"))

    for column in ("created_at", "updated_at"):
        raw = pd.Series([r.get(column) for r in records], dtype="object")
        columns[column], bad = parsing.parse_timestamps(raw)
        problems.add(call_ids, column, "invalid_timestamp", raw, bad)

    raw = pd.Series([r.get("sentiment") for r in results], dtype="object")
    columns["sentiment"], bad = parsing.parse_sentiments(raw)
    problems.add(call_ids, "test_result.sentiment", "unknown_label", raw, bad)

    raw = pd.Series([r.get("goal_achieved") for r in results], dtype="object")
    columns["goal_achieved"], bad = parsing.parse_yes_no(raw)
    problems.add(call_ids, "test_result.goal_achieved", "unknown_label", raw, bad)

    raw = pd.Series([r.get("call_duration") for r in results], dtype="object")
    columns["duration_s"], bad = parsing.parse_durations(raw)
    problems.add(call_ids, "test_result.call_duration", "unknown_duration", raw, bad)

    turns, counts = _turns(results, has_result, call_ids, problems)
    columns.update(counts)

    calls = pd.DataFrame(columns)
    calls["_record"] = np.arange(n)
    calls, turns, problem_frame = _drop_duplicates(calls, turns, problems, records)
    return CallLogs(conform(calls, "calls"), conform(turns, "turns"), problem_frame)


def _text_column(raw: pd.Series) -> pd.Series:
    """Raw values as the string dtype; None, `""` and blanks become NA."""
    text = raw.astype("string")
    return text.mask(text.str.strip() == "")


def _results(records: list[dict], call_ids: pd.Series, problems: _Problems):
    """Each record's test_result as a dict ({} when missing, null or not an object)."""
    results = []
    has_result = np.zeros(len(records), dtype=bool)
    for i, record in enumerate(records):
        result = record.get("test_result")
        if type(result) is dict:
            results.append(result)
            has_result[i] = True
            continue
        results.append({})
        if "test_result" not in record:
            continue  # reported with the other missing fields
        if result is None:
            problems.add_one(call_ids[i], "test_result", "missing_field", "null", i)
        else:
            problems.add_one(call_ids[i], "test_result", "invalid_field", result, i)
    return results, has_result


def _report_missing(records, results, has_result, call_ids, problems) -> None:
    for field in REQUIRED_TOP:
        absent = np.fromiter((field not in r for r in records), bool, len(records))
        problems.add_mask(call_ids, field, "missing_field", absent)
    for field in REQUIRED_RESULT:
        absent = np.fromiter((field not in r for r in results), bool, len(results))
        problems.add_mask(call_ids, f"test_result.{field}", "missing_field", absent & has_result)


def _turns(results, has_result, call_ids, problems):
    """Flatten every conversation into turn columns and per-call counts."""
    record_of, position, roles, contents = [], [], [], []
    readable = has_result.copy()
    for i, result in enumerate(results):
        if not has_result[i]:
            continue
        if "conversation" not in result:
            readable[i] = False
            continue
        value = result["conversation"]
        messages, problem = parsing.decode_conversation(value)
        if messages is None:
            readable[i] = False
            problems.add_one(call_ids[i], "test_result.conversation", problem, value, i)
            continue
        for j, message in enumerate(messages):
            record_of.append(i)
            position.append(j)
            if type(message) is dict:
                roles.append(message.get("role"))
                contents.append(message.get("content"))
            else:
                roles.append(None)
                contents.append(None)
                problems.add_one(call_ids[i], f"test_result.conversation[{j}]",
                                 "invalid_turn", message, i)
    # Content must be text; anything else is NA plus a problem (rare, so a scan is cheap).
    for k, content in enumerate(contents):
        if content is not None and content.__class__ is not str:
            problems.add_one(call_ids[record_of[k]],
                             f"test_result.conversation[{position[k]}].content",
                             "unexpected_type", content, record_of[k])
            contents[k] = None
    record_of = np.asarray(record_of, dtype=np.int64)
    role = pd.Series(roles, dtype="object").astype("string")
    content = pd.Series(contents, dtype="object").astype("string")
    n_words = parsing.count_words(content)
    turns = pd.DataFrame({
        "_record": record_of,
        "call_id": call_ids.to_numpy()[record_of] if len(record_of) else [],
        "turn": pd.array(position, dtype="Int64"),
        "role": role,
        "content": content,
        "n_words": n_words.fillna(0),
        "is_placeholder": (n_words.fillna(0) == 0).astype("boolean"),
    })
    n = len(results)
    counts = {}
    for column, mask in (
        ("n_turns", np.ones(len(record_of), dtype=bool)),
        ("n_user_turns", (role == "user").fillna(False).to_numpy(bool)),
        ("n_assistant_turns", (role == "assistant").fillna(False).to_numpy(bool)),
    ):
        count = np.bincount(record_of[mask], minlength=n)
        counts[column] = pd.array(count, dtype="Int64").copy()
        counts[column][~readable] = pd.NA
    return turns, counts


def _drop_duplicates(calls, turns, problems, records):
    """Keep the newest `updated_at` copy of each id; each other copy is a problem row."""
    has_id = calls["call_id"].notna()
    order = calls.sort_values("updated_at", kind="stable", na_position="first")
    dropped = order[has_id[order.index] & order["call_id"].duplicated(keep="last")]
    if dropped.empty:
        return calls, turns, problems.frame()
    gone = set(dropped["_record"].tolist())
    frame = problems.frame(exclude_records=gone)
    extra = pd.DataFrame({
        "call_id": dropped["call_id"].to_numpy(),
        "field": "id",
        "problem": "duplicate_id",
        "value": [parsing.as_text(records[i]) for i in dropped["_record"]],
    })
    frame = pd.concat([frame, extra.astype(frame.dtypes.to_dict())], ignore_index=True)
    logger.info("dropped %d older duplicate(s) of call ids", len(dropped))
    keep_calls = ~calls["_record"].isin(gone)
    keep_turns = ~turns["_record"].isin(gone)
    return calls[keep_calls], turns[keep_turns], frame


class _Problems:
    """Accumulates problem rows, remembering which record each came from."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, str, str, str, int]] = []

    def add_one(self, call_id: Any, field: str, problem: str, value: Any, record: int = -1):
        """Add one row; `record` is the index of the log it came from (-1: none)."""
        self.rows.append((call_id, field, problem, parsing.as_text(value), record))

    def add(self, call_ids: pd.Series, field: str, problem: str, raw: pd.Series, bad) -> None:
        for i in np.flatnonzero(bad):
            self.rows.append((call_ids.iloc[i], field, problem, parsing.as_text(raw.iloc[i]), i))

    def add_mask(self, call_ids: pd.Series, field: str, problem: str, mask) -> None:
        for i in np.flatnonzero(mask):
            self.rows.append((call_ids.iloc[i], field, problem, pd.NA, i))  # no raw value

    def frame(self, exclude_records: set[int] = frozenset()) -> pd.DataFrame:
        rows = [row[:4] for row in self.rows if row[4] not in exclude_records]
        if not rows:
            return empty_frame("problems")
        frame = pd.DataFrame(rows, columns=["call_id", "field", "problem", "value"], dtype=object)
        return conform(frame, "problems")
