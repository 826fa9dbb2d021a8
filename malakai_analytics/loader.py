"""Source -> records -> CallLogs(calls, turns, problems).

`load_logs` accepts every shape a Malakai export takes: one envelope, a list of
envelopes, a bare list of logs, JSON Lines with one log or one envelope per line, the
files written by `malakai-analytics fetch`, or several of these at once. Columns are
built straight from the records in one pass (no json_normalize then fix-ups), and every
value that cannot be read becomes NA plus a row in `problems`.

Two implementations build the same frames: `tables_from_records`, the reference (slow
and plainly correct, `load_logs(..., fast=False)`), and the chunked fast path that
`load_logs` runs by default (see "the fast path" below). Tests hold them equal.
"""

from __future__ import annotations

import bisect
import gc
import json
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import parsing
from .errors import SourceError
from .schema import CALL_SOURCE_FIELDS, CALLS, KNOWN_ROLES, TABLES, conform, empty_frame

try:
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pandas then stores strings as Python objects
    pa = pc = None

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
        for item in _split_source(source):
            if isinstance(item, Path):
                self.add_path(item)
            else:
                self.add_document(*item)

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

    def _json_lines(self, lines: Iterable[str], path: Path) -> Iterator[tuple[int, Any]]:
        """Yield (line number, document) of every non-blank line; a line that is not
        JSON is an `invalid_json` problem, and a file with no JSON line an error."""
        read = failed = 0
        for number, line in enumerate(lines, start=1):
            line = line.removesuffix("\n")
            if not line.strip():
                continue
            try:
                document = json.loads(line)
            except ValueError:
                failed += 1
                self.problems.append((pd.NA, f"line {number}", "invalid_json", line))
                continue
            read += 1
            yield number, document
        if failed and not read:
            raise SourceError(f"{path}: no line is valid JSON; {EXPECTED_SHAPE}")

    def add_json_lines(self, text: str, path: Path) -> None:
        # Lines end at "\n" only (read_text already turned "\r\n" and "\r" into "\n"):
        # str.splitlines would also split at U+2028 and friends, which JSON strings may
        # hold unescaped.
        for number, document in self._json_lines(text.split("\n"), path):
            self.add_document(document, f"{path} line {number}")

    def iter_json_lines(self, path: Path, size: int) -> Iterator[tuple[list, list, list]]:
        """Stream a JSON Lines file: yield (logs, line numbers, index in line) chunks of
        about `size` logs. Lines and problems are exactly those of `add_json_lines`."""
        try:
            file = path.open(encoding="utf-8")  # universal newlines, like read_text
        except FileNotFoundError:
            raise SourceError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise SourceError(f"{path}: is a folder; {EXPECTED_SHAPE}") from None
        self.logs, lines, ks = [], [], []
        try:
            with file:
                for number, document in self._json_lines(file, path):
                    before = len(self.logs)
                    self.add_document(document, f"{path} line {number}")
                    added = len(self.logs) - before
                    lines += [number] * added
                    ks += range(added)
                    if len(self.logs) >= size:
                        yield self.logs, lines, ks
                        self.logs, lines, ks = [], [], []
        except UnicodeDecodeError:
            raise SourceError(f"{path}: not UTF-8 text; {EXPECTED_SHAPE}") from None
        if self.logs:
            yield self.logs, lines, ks
        self.logs = []

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
        if set(map(type, data)) <= {dict}:  # the usual case: every item is a log
            self.logs += data
            return
        for item in data:
            self.add_log(item)

    def add_log(self, item: Any) -> None:
        if isinstance(item, dict):
            self.logs.append(item)
        else:
            self.problems.append((pd.NA, "data[]", "invalid_record", parsing.as_text(item)))


def _split_source(source: Any) -> list[Path | tuple[Any, str]]:
    """The parts of a source, in order: paths, or (document, origin) pairs."""
    if isinstance(source, (str, os.PathLike)):
        return [Path(source)]
    if isinstance(source, dict):
        return [(source, "<dict>")]
    if isinstance(source, (list, tuple)):
        if source and all(isinstance(s, (str, os.PathLike)) for s in source):
            return [Path(item) for item in source]
        return [(list(source), "<list>")]
    raise SourceError(
        f"cannot load a {type(source).__name__}: pass a path, an envelope dict, "
        "a list of logs, or a list of these"
    )


def _is_envelope(document: dict) -> bool:
    return "data" in document and ("responseCode" in document or "message" in document)


def _is_fetch_record(document: dict) -> bool:
    """The shape `malakai-analytics fetch` saves: the envelope under 'response'."""
    return isinstance(document.get("response"), dict) and "workflow_id" in document


def _looks_like_log(document: dict) -> bool:
    return "id" in document or "test_result" in document


# --- records to tables -------------------------------------------------------------

def load_logs(source: Any, *, fast: bool = True) -> CallLogs:
    """Load Malakai workflow logs into tidy tables.

    JSON Lines files are read in chunks of `CHUNK_RECORDS` logs, so memory grows with
    the tables, not with the file. A .json file is parsed whole (its text and parsed
    document are both in memory for a moment), then its logs are let go chunk by chunk
    as the tables grow. The cyclic garbage collector is paused during the load.

    Args:
        source: a path to a .json file (one envelope, a list of envelopes or a bare
            list of logs) or a .jsonl/.ndjson file (one log or envelope per line); an
            envelope dict; a list of log dicts; or a list of paths.
        fast: True (the default) builds the tables with the chunked fast path; False
            with the reference implementation `tables_from_records`, which is slower
            and gives exactly the same frames.

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
    if fast:
        with _gc_paused():
            logs = _load_fast(source)
    else:
        logs = tables_from_records(*read_records(source))
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


def logs_from_records(records: list[dict], source_problems: list[tuple] = ()) -> CallLogs:
    """The fast path's tables from raw log dicts already in memory (the store keeps the
    raw logs it ingests, so it reads them once with `read_records` and builds from them).

    Gives exactly the frames of `load_logs` on the same logs.
    """
    builder = _Builder()
    with _gc_paused():
        for start in range(0, len(records), CHUNK_RECORDS):
            builder.add(records[start:start + CHUNK_RECORDS])
        return builder.finish(list(source_problems),
                              lambda indices: [records[i] for i in indices])


def tables_from_records(
    records: list[dict], source_problems: list[tuple] | None = None
) -> CallLogs:
    """Build the three tables from raw log dicts: the reference path (`fast=False`)."""
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
    dropped = _older_copies(calls)
    if dropped.empty:
        return calls, turns, problems.frame()
    gone = set(dropped["_record"].tolist())
    frame = _problem_frame(problems, dropped, [records[i] for i in dropped["_record"]])
    keep_calls = ~calls["_record"].isin(gone)
    keep_turns = ~turns["_record"].isin(gone)
    return calls[keep_calls], turns[keep_turns], frame


def _older_copies(calls: pd.DataFrame) -> pd.DataFrame:
    """Rows of `calls` (call_id, updated_at, _record) that a newer copy of the id replaces."""
    has_id = calls["call_id"].notna()
    order = calls.sort_values("updated_at", kind="stable", na_position="first")
    return order[has_id[order.index] & order["call_id"].duplicated(keep="last")]


def _problem_frame(problems: _Problems, dropped: pd.DataFrame, raw: list) -> pd.DataFrame:
    """The problems frame: rows of kept records, then one `duplicate_id` row per dropped
    copy (`raw`: the dropped records, in the order of `dropped`)."""
    if dropped.empty:
        return problems.frame()
    frame = problems.frame(exclude_records=set(dropped["_record"].tolist()))
    extra = pd.DataFrame({
        "call_id": dropped["call_id"].to_numpy(),
        "field": "id",
        "problem": "duplicate_id",
        "value": [parsing.as_text(record) for record in raw],
    })
    frame = pd.concat([frame, extra.astype(frame.dtypes.to_dict())], ignore_index=True)
    logger.info("dropped %d older duplicate(s) of call ids", len(dropped))
    return frame


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


# --- the fast path -----------------------------------------------------------------
#
# `load_logs` builds exactly the frames `tables_from_records` builds (that function is
# the reference: slow, obviously correct, and what `fast=False` runs), but:
# - records are read in chunks of CHUNK_RECORDS. JSON Lines are streamed, so only one
#   chunk of raw logs is alive at a time; the logs of a .json file are let go chunk by
#   chunk once read (a parsed document cannot be read in parts);
# - one pass over a chunk's records fills every column (a tuple per record, transposed);
# - strings go straight into the string dtype's storage (pyarrow when pandas uses it),
#   with the same kernels pandas runs for `.str.strip() == ""`; nothing built keeps a
#   reference into the raw logs, so their memory is freed whole;
# - labels and durations are parsed once per distinct text by the general parsers;
# - words are counted once per distinct message text;
# - conversations are decoded by the json module's own scanner (what json.loads runs,
#   minus its wrapper), falling back to `parsing.decode_conversation` for anything
#   that is not a plain JSON list;
# - the cyclic garbage collector is paused: the loader makes millions of acyclic
#   containers, and each full collection would walk all of them again.
# Problems are kept per phase, in the order the reference adds them, so the problems
# frame comes out in the same row order.

#: Records per chunk of the fast path.
CHUNK_RECORDS = 10_000

_TOP_TEXT = ("call_id", "workflow_id", "agent_id", "status", "session_id", "tester_name",
             "tester_phone", "tester_email")
_RESULT_TEXT = ("result_status", "contact_name", "contact_email", "contact_address",
                "contact_id", "call_sid", "result_session_id", "call_summary", "recording_url")


_EMPTY_RESULT = (None,) * 13
_PLAIN = frozenset((str, type(None)))
_ROLE = itemgetter("role")
_CONTENT = itemgetter("content")

# Problem phases, in the order the reference adds its rows.
_PHASES = (
    "source", "test_result",
    *(f"missing {field}" for field in REQUIRED_TOP),
    *(f"missing test_result.{field}" for field in REQUIRED_RESULT),
    "created_at", "updated_at", "sentiment", "goal_achieved", "call_duration",
    "conversation", "content",
)

_LABELS = (  # column, source field, problem code, general parser
    ("sentiment", "test_result.sentiment", "unknown_label", parsing.parse_sentiments),
    ("goal_achieved", "test_result.goal_achieved", "unknown_label", parsing.parse_yes_no),
    ("duration_s", "test_result.call_duration", "unknown_duration", parsing.parse_durations),
)


@contextmanager
def _gc_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _arrow_strings() -> bool:
    """Whether the "string" dtype is pyarrow-backed (pandas' default when installed)."""
    return pd.StringDtype().storage == "pyarrow"


def _string_array(values, arrow: bool):
    """Raw values as a "string" array, exactly as `.astype("string")` makes them.

    pyarrow takes str, None and what pandas turns into the same text (bytes as UTF-8);
    it refuses numbers, booleans, NaN, lists and dicts, which pandas converts itself.
    """
    if arrow:
        try:
            # The system allocator grows the buffers in place (mremap), where pyarrow's
            # default pool copies them: the conversion runs 2-3 times faster.
            data = pa.array(values, type=pa.large_string(), memory_pool=pa.system_memory_pool())
        except (pa.ArrowException, TypeError, ValueError):
            pass
        else:
            return pd.arrays.ArrowStringArray(data, dtype=pd.StringDtype())
    return pd.Series(values, dtype="object").astype("string").array


def _blank_to_na(array):
    """What `_text_column` does to a "string" array (``.mask(.str.strip() == "")``)."""
    if not isinstance(array, pd.arrays.ArrowStringArray):
        return _text_column(pd.Series(array, copy=False)).array
    # Blank: empty or all white space (utf8_is_space holds for exactly the characters
    # that utf8_trim_whitespace, which .str.strip() runs, removes: a test checks every
    # code point), found without a trimmed copy of the column.
    data = array._pa_array
    blank = pc.or_(pc.equal(pc.utf8_length(data), 0), pc.utf8_is_space(data))
    if not pc.any(blank).as_py():
        return array
    data = pc.if_else(blank, pa.scalar(None, pa.large_string()), data,
                      memory_pool=pa.system_memory_pool())
    return pd.arrays.ArrowStringArray(data, dtype=array.dtype)


def _fresh(value: Any) -> Any:
    """A copy of a str (so that keeping it does not keep the raw log's memory alive)."""
    if value.__class__ is str and len(value) > 1:
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    return value


def _text(value: Any) -> str:
    """`parsing.as_text`, as a fresh copy."""
    return _fresh(parsing.as_text(value))


def _concat_as(arrays: list[np.ndarray], dtype) -> np.ndarray:
    """Concatenate numpy arrays into one of `dtype`, with no intermediate copy."""
    out = np.empty(sum(len(array) for array in arrays), dtype=dtype)
    at = 0
    for array in arrays:
        out[at:at + len(array)] = array
        at += len(array)
    return out


def _concat(arrays: list):
    """Concatenate numpy arrays or extension arrays of one dtype (Arrow: no copy)."""
    if len(arrays) == 1:
        return arrays[0]
    if isinstance(arrays[0], np.ndarray):
        return np.concatenate(arrays)
    return type(arrays[0])._concat_same_type(arrays)


class _Distinct:
    """A general Series parser, run once per distinct text of the whole load.

    The parsers of `parsing` are element-wise, so parsing the distinct values and
    taking them back is the same as parsing the column. Only str and None are
    memoised (True == 1 == 1.0 as dict keys); other values, rare, are parsed in their
    chunk. Nothing is kept that refers into the raw logs.
    """

    def __init__(self, parser) -> None:
        self.parser = parser
        self.codes: dict[Any, int] = {None: 0}
        self.texts: list = [None]  # distinct values, fresh copies; code -> value
        self.index: list[np.ndarray] = []  # per chunk: codes, -1 for other values
        self.others: list[tuple] = []  # per chunk with other values: positions, parsed, bad, texts

    def add(self, values, offset: int) -> None:
        codes = self.codes
        try:
            index = list(map(codes.__getitem__, values))
        except (KeyError, TypeError):  # a new text, or a value that is not text
            index, others = [], []
            for k, value in enumerate(values):
                if value.__class__ is str:
                    code = codes.get(value)
                    if code is None:
                        value = _fresh(value)
                        code = codes[value] = len(self.texts)
                        self.texts.append(value)
                elif value is None:
                    code = 0
                else:
                    code = -1
                    others.append(k)
                index.append(code)
            if others:
                raw = [values[k] for k in others]
                parsed, bad = self.parser(pd.Series(raw, dtype="object"))
                texts = [_text(value) if flag else None for value, flag in zip(raw, bad)]
                self.others.append((np.asarray(others) + offset, parsed.array, bad, texts))
        self.index.append(np.asarray(index, dtype=np.int32))

    def finish(self) -> tuple[Any, np.ndarray, dict[int, str]]:
        """(parsed array, bad mask, raw text of bad values) for all records so far."""
        parsed, bad = self.parser(pd.Series(self.texts, dtype="object"))
        index = _concat(self.index)
        is_other = index < 0
        out = parsed.array.take(np.where(is_other, 0, index))
        out_bad = bad[index] & ~is_other
        texts = {}
        for positions, other_parsed, other_bad, other_texts in self.others:
            out[positions] = other_parsed
            out_bad[positions] = other_bad
            texts.update((int(i), text) for i, text in zip(positions, other_texts)
                         if text is not None)
        for i in np.flatnonzero(out_bad & ~is_other).tolist():
            texts[i] = parsing.as_text(self.texts[index[i]])
        return out, out_bad, texts


class _Builder:
    """Builds the three tables chunk by chunk; `finish` gives the CallLogs."""

    def __init__(self) -> None:
        self.arrow = _arrow_strings()
        self.n = 0
        self.phases: dict[str, list[tuple]] = {phase: [] for phase in _PHASES}
        self.calls: list[dict[str, Any]] = []  # per chunk: column -> array
        self.turns: list[dict[str, Any]] = []
        self.role_names: list[list] = []  # per chunk: the distinct roles its codes index
        self.odd_stamps: dict[tuple[str, int], Any] = {}  # timestamps that are not text
        self.labels = {column: _Distinct(parser) for column, _, _, parser in _LABELS}
        self.scan = json.JSONDecoder().scan_once  # what json.loads runs

    def add(self, records: list[dict]) -> None:
        m = len(records)
        if not m:
            return
        offset = self.n
        self.n += m
        arrow = self.arrow

        # One pass: a tuple of raw values per record.
        tops, results, no_result, odd_top, odd_result = [], [], [], [], []
        for k, r in enumerate(records):
            # Order: _TOP_TEXT (their CALL_SOURCE_FIELDS keys), created_at, updated_at.
            tops.append((r.get("id"), r.get("workflow_id"), r.get("agent_id"), r.get("status"),
                         r.get("session_id"), r.get("tester_name"), r.get("tester_phone"),
                         r.get("tester_email"), r.get("created_at"), r.get("updated_at")))
            t = r.get("test_result")
            if t.__class__ is dict:
                # Order: _RESULT_TEXT (their keys), then the fields parsed further.
                results.append((t.get("status"), t.get("name"), t.get("email"),
                                t.get("address"), t.get("contact_id"), t.get("call_sid"),
                                t.get("session_id"), t.get("call_summary"),
                                t.get("recording_url"), t.get("sentiment"),
                                t.get("goal_achieved"), t.get("call_duration"),
                                t.get("conversation")))
                if not ("sentiment" in t and "goal_achieved" in t and "call_duration" in t
                        and "conversation" in t):
                    odd_result.append(k)
            else:
                results.append(_EMPTY_RESULT)
                no_result.append(k)
            if not ("id" in r and "created_at" in r and "updated_at" in r
                    and "test_result" in r):
                odd_top.append(k)
        tops = list(zip(*tops))
        results = list(zip(*results))

        calls: dict[str, Any] = {"_record": np.arange(offset, offset + m)}
        self.calls.append(calls)
        # Text as is; blanks become NA in `_calls_frame`, once per column (call ids now).
        for column, values in zip(_TOP_TEXT, tops):
            calls[column] = _string_array(values, arrow)
        for column, values in zip(_RESULT_TEXT, results):
            calls[column] = _string_array(values, arrow)
        call_ids = calls["call_id"] = _blank_to_na(calls["call_id"])
        for column, values in (("created_at", tops[8]), ("updated_at", tops[9])):
            calls[column] = _string_array(values, arrow)
            if not set(map(type, values)) <= _PLAIN:
                for k, value in enumerate(values):
                    if value is not None and value.__class__ is not str:
                        self.odd_stamps[column, offset + k] = value

        phases = self.phases
        for k in no_result:
            r = records[k]
            if "test_result" not in r:
                continue  # reported with the other missing fields
            value = r["test_result"]
            phases["test_result"].append(
                (call_ids[k], "test_result", "missing_field" if value is None else "invalid_field",
                 "null" if value is None else _text(value), offset + k))
        for field in REQUIRED_TOP:
            rows = phases[f"missing {field}"]
            for k in odd_top:
                if field not in records[k]:
                    rows.append((call_ids[k], field, "missing_field", pd.NA, offset + k))
        readable = np.ones(m, dtype=bool)
        readable[no_result] = False
        for field in REQUIRED_RESULT:
            rows = phases[f"missing test_result.{field}"]
            for k in odd_result:
                if field not in records[k]["test_result"]:
                    rows.append((call_ids[k], f"test_result.{field}", "missing_field",
                                 pd.NA, offset + k))
        for k in odd_result:
            if "conversation" not in records[k]["test_result"]:
                readable[k] = False  # no conversation at all: the number of turns is unknown

        for (column, _, _, _), values in zip(_LABELS, results[9:12]):
            self.labels[column].add(values, offset)

        self._add_turns(results[12], readable, calls, offset)

    def _add_turns(self, conversations, readable, calls, offset) -> None:
        m = len(conversations)
        call_ids = calls["call_id"]
        scan = self.scan
        rows = self.phases["conversation"]
        lengths = [0] * m
        roles: list = []
        contents: list = []
        for k in np.flatnonzero(readable).tolist():
            value = conversations[k]
            messages = None
            if value.__class__ is str and value.startswith("["):
                try:
                    messages, end = scan(value, 0)
                except (ValueError, StopIteration):
                    messages = None
                else:
                    if end != len(value):  # trailing text: let the general decoder judge
                        messages = None
            if messages is None:
                messages, problem = parsing.decode_conversation(value)
                if messages is None:
                    readable[k] = False
                    rows.append((call_ids[k], "test_result.conversation", problem,
                                 _text(value), offset + k))
                    continue
            lengths[k] = len(messages)
            if value.__class__ is str:  # plain JSON: dicts, lists, str, numbers
                before = len(roles)
                try:
                    roles += map(_ROLE, messages)
                    contents += map(_CONTENT, messages)
                except (KeyError, TypeError):  # not every message has both: one by one
                    del roles[before:], contents[before:]
                else:
                    continue
            for j, message in enumerate(messages):
                if type(message) is dict:
                    roles.append(message.get("role"))
                    contents.append(message.get("content"))
                else:
                    roles.append(None)
                    contents.append(None)
                    rows.append((call_ids[k], f"test_result.conversation[{j}]",
                                 "invalid_turn", _text(message), offset + k))

        lengths = np.array(lengths, dtype=np.int64)
        local = np.repeat(np.arange(m), lengths)
        turn = np.arange(len(local)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        if not set(map(type, contents)) <= _PLAIN:
            rows = self.phases["content"]
            for i, content in enumerate(contents):
                if content is not None and content.__class__ is not str:
                    rows.append((call_ids[local[i]],
                                 f"test_result.conversation[{turn[i]}].content",
                                 "unexpected_type", _text(content), offset + local[i]))
                    contents[i] = None
        role = _string_array(roles, self.arrow)
        content = _string_array(contents, self.arrow)
        del roles, contents
        codes, distinct = pd.factorize(content)
        n_words = np.array([parsing.count_words_text(text) for text in distinct] + [0],
                           dtype=np.int64)[codes]  # code -1 (NA): 0 words, as fillna(0)
        role_codes, role_names = pd.factorize(role)
        self.turns.append({
            "_record": (local + offset).astype(np.int32),
            "call_id": call_ids.take(local),
            "turn": turn.astype(np.int32),
            "role": role_codes.astype(np.int32),  # codes into `names`, -1: NA
            "content": content,
            "n_words": n_words.astype(np.int32),
        })
        self.role_names.append(list(role_names))
        names = list(role_names) + [None]
        user = names.index("user") if "user" in names[:-1] else -2
        assistant = names.index("assistant") if "assistant" in names[:-1] else -2
        calls["n_turns"] = lengths
        calls["n_user_turns"] = np.bincount(local[role_codes == user], minlength=m)
        calls["n_assistant_turns"] = np.bincount(local[role_codes == assistant], minlength=m)
        calls["_readable"] = readable

    def finish(self, source_problems: list[tuple], raw_records) -> CallLogs:
        """The tables; `raw_records(indices)` gives the raw logs of those record indices."""
        problems = _Problems()
        for row in source_problems:
            problems.add_one(*row)
        if not self.n:
            return CallLogs(empty_frame("calls"), empty_frame("turns"), problems.frame())
        parts = self.calls
        call_ids = pd.Series(_concat([part["call_id"] for part in parts]), copy=False)
        stamps = {}
        for column in ("created_at", "updated_at"):
            raw = pd.Series(_concat([part.pop(column) for part in parts]), copy=False)
            stamps[column], bad = parsing.parse_timestamps(raw)
            rows = self.phases[column]
            for i in np.flatnonzero(bad).tolist():
                value = self.odd_stamps.get((column, i), raw.iloc[i])
                rows.append((call_ids.iloc[i], column, "invalid_timestamp",
                             parsing.as_text(value), i))
            del raw
        labels = {}
        for column, field, problem, _ in _LABELS:
            labels[column], bad, texts = self.labels[column].finish()
            rows = self.phases[column if column != "duration_s" else "call_duration"]
            for i in np.flatnonzero(bad).tolist():
                rows.append((call_ids.iloc[i], field, problem, texts[i], i))
        for phase in _PHASES[1:]:
            problems.rows.extend(self.phases[phase])

        # Only ids seen more than once can lose a copy: sort just those (the same rows,
        # in the same order, as sorting every call).
        codes, _ = pd.factorize(call_ids)
        shared = np.flatnonzero((np.bincount(codes + 1)[codes + 1] > 1) & (codes >= 0))
        dropped = _older_copies(pd.DataFrame({
            "call_id": call_ids.iloc[shared].reset_index(drop=True),
            "updated_at": stamps["updated_at"].iloc[shared].reset_index(drop=True),
            "_record": shared,
        }))
        del codes, shared
        del call_ids
        gone = np.sort(dropped["_record"].to_numpy())
        problem_frame = _problem_frame(
            problems, dropped, raw_records(dropped["_record"].tolist()) if len(gone) else [])
        whole = {**{column: values.array for column, values in stamps.items()}, **labels}
        if len(gone):
            keep = ~np.isin(np.arange(self.n), gone)
            whole = {column: values[keep] for column, values in whole.items()}
            _drop_records(parts, gone)
            _drop_records(self.turns, gone)
        return CallLogs(self._calls_frame(whole), self._turns_frame(), problem_frame)

    def _calls_frame(self, whole: dict) -> pd.DataFrame:
        parts, self.calls = self.calls, []
        columns = {}
        for column in CALLS:
            if column in whole:
                columns[column] = whole[column]
                continue
            values = _concat([part.pop(column) for part in parts])
            if column in ("n_turns", "n_user_turns", "n_assistant_turns"):
                readable = _concat([part["_readable"] for part in parts])
                values = pd.arrays.IntegerArray(values.astype(np.int64), ~readable)
            elif column in _TOP_TEXT[1:] + _RESULT_TEXT:
                values = _blank_to_na(values)
            columns[column] = values
        return _frame(columns, "calls")

    def _turns_frame(self) -> pd.DataFrame:
        parts, self.turns = self.turns, []
        names_of, self.role_names = self.role_names, []
        # Roles: known roles first, then the others (sorted) that the kept turns hold.
        present = set()
        for part, names in zip(parts, names_of):
            used = np.unique(part["role"])
            present.update(names[code] for code in used[used >= 0].tolist())
        extras = sorted({str(name) for name in present} - set(KNOWN_ROLES))
        role_dtype = pd.CategoricalDtype(list(KNOWN_ROLES) + extras)
        position = {name: i for i, name in enumerate(role_dtype.categories)}
        for part, names in zip(parts, names_of):
            mapping = np.array([position.get(str(name), -1) for name in names] + [-1],
                               dtype=np.int32)
            part["role"] = mapping[part["role"]]
        for part in parts:
            del part["_record"]
        turn = _concat_as([part.pop("turn") for part in parts], np.int64)
        n_words = _concat_as([part.pop("n_words") for part in parts], np.int64)
        role = _concat_as([part.pop("role") for part in parts], np.int8 if len(position) < 127
                          else np.int32)
        valid = np.zeros(len(n_words), dtype=bool)
        return _frame({
            "call_id": _concat([part.pop("call_id") for part in parts]),
            "turn": pd.arrays.IntegerArray(turn, valid),
            "role": pd.Categorical.from_codes(role, dtype=role_dtype),
            "content": _concat([part.pop("content") for part in parts]),
            "n_words": pd.arrays.IntegerArray(n_words, valid),
            "is_placeholder": pd.arrays.BooleanArray(n_words == 0, valid),
        }, "turns")


def _drop_records(parts: list[dict[str, Any]], gone: np.ndarray) -> None:
    """Drop, in place and part by part, the rows whose `_record` is in sorted `gone`.

    Arrow strings are cut into slices around the dropped rows (no copy): the few older
    copies of an id would otherwise cost a copy of every part they fall in.
    """
    for part in parts:
        keep = ~np.isin(part["_record"], gone)
        if keep.all():
            continue
        dropped = np.flatnonzero(~keep)
        runs = [(start, end) for start, end in zip(np.r_[0, dropped + 1], np.r_[dropped, len(keep)])
                if end > start]
        for key, values in part.items():
            if isinstance(values, pd.arrays.ArrowStringArray):
                data = values._pa_array
                pieces = [chunk for start, end in runs
                          for chunk in data.slice(int(start), int(end - start)).chunks]
                data = pa.chunked_array(pieces, type=pa.large_string())
                part[key] = pd.arrays.ArrowStringArray(data, dtype=values.dtype)
            else:
                part[key] = values[keep]


def _frame(columns: dict[str, Any], table: str) -> pd.DataFrame:
    """Columns (already of the schema's dtypes) as the table's frame, in schema order."""
    frame = pd.DataFrame({name: columns[name] for name in TABLES[table]}, copy=False)
    for name, dtype in TABLES[table].items():
        if name != "role" and frame[name].dtype != pd.api.types.pandas_dtype(dtype):
            raise AssertionError(f"{table}.{name} is {frame[name].dtype}, not {dtype}")
    return frame


def _load_fast(source: Any) -> CallLogs:
    builder = _Builder()
    collector = _Collector()
    held: list[tuple] = []  # per part, how to get its raw logs back
    starts: list[int] = []  # first record index of each part
    for item in _split_source(source):
        if isinstance(item, Path) and item.suffix.lower() in (".jsonl", ".ndjson"):
            for logs, numbers, ks in collector.iter_json_lines(item, CHUNK_RECORDS):
                starts.append(builder.n)
                held.append(("lines", item, np.asarray(numbers), np.asarray(ks)))
                builder.add(logs)
            continue
        collector.logs = []
        if isinstance(item, Path):
            collector.add_path(item)
        else:
            collector.add_document(*item)
        logs, collector.logs = collector.logs, []
        starts.append(builder.n)
        if isinstance(item, Path):
            # Keep (as text: the problem row's value) the logs whose id another log of
            # the file shares, as the older copy is reported whole; let the others go
            # once read. Copies across sources are found by reading the file again.
            ids = list(map(dict.get, logs, repeat("id")))
            counts = Counter(value for value in ids if value.__class__ is str)
            shared = {value for value, count in counts.items() if count > 1}
            kept = {i: parsing.as_text(logs[i]) for i, value in enumerate(ids)
                    if value.__class__ is not str or value in shared}
            del ids, counts, shared
            held.append(("file", item, kept))
            for start in range(0, len(logs), CHUNK_RECORDS):
                chunk = logs[start:start + CHUNK_RECORDS]
                logs[start:start + CHUNK_RECORDS] = [None] * len(chunk)
                builder.add(chunk)
                del chunk
        else:
            held.append(("logs", logs))
            for start in range(0, len(logs), CHUNK_RECORDS):
                builder.add(logs[start:start + CHUNK_RECORDS])
        del logs

    def raw_records(indices: list[int]) -> list[dict]:
        return _raw_records(indices, starts, held)

    return builder.finish(collector.problems, raw_records)


def _raw_records(indices: list[int], starts: list[int], held: list[tuple]) -> list:
    """The raw logs of record `indices` (or their `parsing.as_text`); logs let go are read
    again from their file."""
    found: dict[int, dict] = {}
    lines: dict[Path, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    files: dict[int, list[int]] = defaultdict(list)
    for i in indices:
        part = bisect.bisect_right(starts, i) - 1
        kind, *where = held[part]
        k = i - starts[part]
        if kind == "logs":
            found[i] = where[0][k]
        elif kind == "file":
            if k in where[1]:
                found[i] = where[1][k]
            else:
                files[part].append(i)
        else:
            path, numbers, ks = where
            lines[path][int(numbers[k])].append((int(ks[k]), i))
    for part, wanted in files.items():
        collector = _Collector()
        collector.add_path(held[part][1])
        for i in wanted:
            found[i] = collector.logs[i - starts[part]]
    for path, wanted_lines in lines.items():
        collector = _Collector()
        with path.open(encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                if number in wanted_lines:
                    collector.logs = []
                    collector.add_document(json.loads(line), f"{path} line {number}")
                    for k, i in wanted_lines[number]:
                        found[i] = collector.logs[k]
    return [found[i] for i in indices]
