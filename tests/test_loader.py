"""load_logs: sources, the documented example, and the loading cases C01-C07."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import loader_cases as cases
import pandas as pd
import pytest
from conftest import example_envelope

from malakai_analytics import SourceError, load_logs, schema
from malakai_analytics.metrics import duration_summary, goal_rate


def assert_schema(logs):
    for table in ("calls", "turns", "problems"):
        frame = getattr(logs, table)
        spec = schema.TABLES[table]
        assert list(frame.columns) == list(spec), table
        for column, dtype in spec.items():
            if column == "role":
                assert isinstance(frame[column].dtype, pd.CategoricalDtype)
                assert list(frame[column].cat.categories[:2]) == ["user", "assistant"]
            else:
                assert frame[column].dtype == pd.api.types.pandas_dtype(dtype), (table, column)
        assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0


def problem_rows(logs):
    rows = [tuple(None if pd.isna(v) else v for v in row)
            for row in logs.problems.itertuples(index=False)]
    return sorted(rows, key=lambda row: tuple("" if v is None else v for v in row))


# --- the documented example ----------------------------------------------------------

def test_documented_example(example_path):
    logs = load_logs(example_path)
    assert_schema(logs)
    assert len(logs.calls) == 1 and logs.problems.empty
    call = logs.calls.iloc[0]
    assert call["call_id"] == "d2e86f99-832d-4750-ab14-b50245afa96f"
    assert call["duration_s"] == 210.0
    assert call["goal_achieved"] is False or call["goal_achieved"] == False  # noqa: E712
    assert not call["goal_achieved"]
    assert call["sentiment"] == "neutral"
    assert pd.isna(call["tester_email"]) and pd.isna(call["contact_email"])
    assert call["created_at"] == pd.Timestamp("2025-07-08 11:19:23.689", tz="UTC")
    assert (call["n_turns"], call["n_user_turns"], call["n_assistant_turns"]) == (4, 2, 2)
    assert call["tester_phone"] == "+1234567890"
    assert call["contact_address"] == "Temp Address"
    turns = logs.turns
    assert list(turns["turn"]) == [0, 1, 2, 3]
    assert list(turns["role"]) == ["user", "assistant", "user", "assistant"]
    assert bool(turns["is_placeholder"].iloc[0]) is True
    assert not turns["is_placeholder"].iloc[1:].any()
    raw = json.loads(example_envelope()["data"][0]["test_result"]["conversation"])
    assert list(turns["content"]) == [m["content"] for m in raw]
    assert turns["content"].iloc[2] == " At Manchester Gauteng Young Tower."  # not stripped
    assert list(turns["n_words"]) == [0, 18, 5, 29]


def test_c05_timestamp_resolution(example_path):
    calls = load_logs(example_path).calls
    elapsed = (calls["updated_at"] - calls["created_at"]).dt.total_seconds()
    assert elapsed.iloc[0] == pytest.approx(263.068, abs=1e-9)
    # Stored in microseconds since the Unix epoch: the stated unit of any integer epoch.
    expected = datetime(2025, 7, 8, 11, 19, 23, 689000, tzinfo=timezone.utc)
    micros = int(expected.timestamp()) * 1_000_000 + 689_000
    assert calls["created_at"].dtype == "datetime64[us, UTC]"
    assert calls["created_at"].astype("int64").iloc[0] == micros


# --- C01 -----------------------------------------------------------------------------

RESULT_COLUMNS = [
    "result_status", "sentiment", "goal_achieved", "duration_s", "n_turns",
    "n_user_turns", "n_assistant_turns", "contact_name", "contact_email",
    "contact_address", "contact_id", "call_sid", "result_session_id", "call_summary",
    "recording_url",
]


def test_c01_missing_or_null_test_result():
    logs = load_logs(cases.c01_missing_or_null_test_result())
    assert_schema(logs)
    calls = logs.calls.set_index("call_id")
    assert list(calls.index) == ["a", "b", "c"]
    assert calls.loc["a", "sentiment"] == "neutral" and calls.loc["a", "duration_s"] == 210.0
    for call_id in ("b", "c"):
        for column in RESULT_COLUMNS:
            assert pd.isna(calls.loc[call_id, column]), (call_id, column)
        assert calls.loc[call_id, "agent_id"] == "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    assert problem_rows(logs) == [
        ("b", "test_result", "missing_field", "null"),
        ("c", "test_result", "missing_field", None),
    ]


def test_c01_empty_data_gives_typed_empty_frames():
    for source in cases.c01_empty_sources():
        logs = load_logs(source)
        assert_schema(logs)
        assert len(logs.calls) == len(logs.turns) == len(logs.problems) == 0


# --- C02, C03 ------------------------------------------------------------------------

def test_c02_conversation_that_is_not_a_json_list():
    logs = load_logs(cases.c02_conversation_not_a_json_list())
    assert_schema(logs)
    per_call = logs.turns.groupby("call_id").size().to_dict()
    assert per_call == {"valid": 2, "list": 3}
    n_turns = logs.calls.set_index("call_id")["n_turns"]
    assert n_turns["valid"] == 2 and n_turns["list"] == 3
    assert n_turns["null"] == 0 and n_turns["empty"] == 0
    assert pd.isna(n_turns["bad"])  # unreadable: unknown, not zero
    assert problem_rows(logs) == [("bad", "test_result.conversation", "invalid_json", "[{bad json")]
    assert list(logs.turns["content"]) == ["hi", "Hello there", "---", "Hi", "Book me"]


def test_c02_conversation_of_other_shapes():
    logs = load_logs(cases.c02_conversation_of_other_shapes())
    assert problem_rows(logs) == [
        ("item", "test_result.conversation[0]", "invalid_turn", "oops"),
        ("item", "test_result.conversation[1].content", "unexpected_type", "7"),
        ("num", "test_result.conversation", "invalid_conversation", "5"),
        ("obj", "test_result.conversation", "invalid_conversation", '{"role": "user"}'),
    ]
    item = logs.turns[logs.turns["call_id"] == "item"]
    assert len(item) == 2 and item["content"].isna().all()
    assert logs.calls.set_index("call_id")["n_turns"]["item"] == 2


def test_c03_empty_conversation_is_not_a_turn():
    logs = load_logs(cases.c03_empty_conversation())
    assert logs.calls.set_index("call_id")["n_turns"]["empty"] == 0
    assert "empty" not in set(logs.turns["call_id"])
    assert len(logs.turns) == 8
    assert list(logs.turns.index) == list(range(8))
    assert list(logs.turns["turn"]) == [0, 1, 2, 3, 0, 1, 2, 3]


# --- C04 -----------------------------------------------------------------------------

def test_c04_timestamps_with_and_without_milliseconds():
    logs = load_logs(cases.c04_timestamps())
    created = logs.calls["created_at"]
    assert created.iloc[0] == pd.Timestamp("2025-07-08 11:19:23.689", tz="UTC")
    assert created.iloc[1] == pd.Timestamp("2025-07-08 11:23:46", tz="UTC")
    assert pd.isna(created.iloc[2]) and pd.isna(created.iloc[3])
    assert created.iloc[4] == pd.Timestamp("2025-07-08 11:19:23", tz="UTC")  # naive = UTC
    assert created.iloc[5] == pd.Timestamp("2025-07-08 11:19:23", tz="UTC")
    assert logs.problems.empty


def test_unreadable_timestamp_is_a_problem():
    logs = load_logs(cases.unreadable_timestamp())
    assert pd.isna(logs.calls["updated_at"].iloc[0])
    assert problem_rows(logs) == [("x", "updated_at", "invalid_timestamp", "yesterday")]


# --- C06 -----------------------------------------------------------------------------

def test_c06_human_durations():
    logs = load_logs(cases.c06_human_durations())
    seconds = logs.calls["duration_s"]
    assert seconds.iloc[:10].tolist() == [210.0] * 10
    assert seconds.iloc[10] == 3720.0
    assert seconds.iloc[11:].isna().all()
    assert problem_rows(logs) == [
        ("13", "test_result.call_duration", "unknown_duration", "N/A"),
        ("14", "test_result.call_duration", "unknown_duration", "210 parsecs"),
    ]


def test_c06_mean_duration_over_known_calls():
    logs = load_logs(cases.c06_mean_duration())
    summary = duration_summary(logs.calls).iloc[0]
    assert summary["mean"] == 195.0 and summary["known"] == 2 and summary["calls"] == 4
    assert summary["total"] == 390.0 and summary["min"] == 180.0 and summary["max"] == 210.0


# --- C07 -----------------------------------------------------------------------------

def test_c07_yes_no_outcomes():
    logs = load_logs(cases.c07_yes_no())
    goal = logs.calls["goal_achieved"]
    assert goal.iloc[0] == True and goal.iloc[1] == False and goal.iloc[4] == True  # noqa: E712
    assert pd.isna(goal.iloc[2]) and pd.isna(goal.iloc[3])
    rate = goal_rate(logs.calls).iloc[0]
    assert (rate["calls"], rate["known"], rate["achieved"]) == (5, 3, 2)
    assert rate["rate"] == pytest.approx(2 / 3)
    assert logs.problems.empty


@pytest.mark.parametrize("raw, expected", cases.C07_SPELLINGS)
def test_c07_every_spelling(raw, expected):
    calls = load_logs(cases.c07_spelling(raw)).calls
    assert bool(calls["goal_achieved"].iloc[0]) is expected


def test_unknown_outcome_and_label_become_problems():
    logs = load_logs(cases.unknown_outcome_and_labels())
    calls = logs.calls.set_index("call_id")
    assert pd.isna(calls.loc["a", "goal_achieved"]) and pd.isna(calls.loc["a", "sentiment"])
    assert calls.loc["b", "sentiment"] == "positive" and calls.loc["c", "sentiment"] == "negative"
    assert problem_rows(logs) == [
        ("a", "test_result.goal_achieved", "unknown_label", "maybe"),
        ("a", "test_result.sentiment", "unknown_label", "mixed"),
    ]


# --- sources -------------------------------------------------------------------------

def test_every_source_shape_gives_the_same_calls(tmp_path, example_path):
    expected = load_logs(example_path).calls
    for source in cases.every_source_shape(tmp_path):
        pd.testing.assert_frame_equal(load_logs(source).calls, expected)


def test_several_sources_at_once(tmp_path):
    calls = load_logs(cases.several_sources(tmp_path)).calls
    assert list(calls["call_id"]) == ["a", "b"]
    assert list(calls["workflow_id"]) == ["w1", "w2"]


def test_bad_jsonl_line_is_a_problem_not_a_stop(tmp_path):
    logs = load_logs(cases.bad_jsonl_line(tmp_path))
    assert list(logs.calls["call_id"]) == ["a", "b"]
    assert problem_rows(logs) == [(None, "line 2", "invalid_json", "{truncated")]


def test_failure_response_code_and_bad_records_are_problems():
    logs = load_logs(cases.failure_response_and_bad_records())
    assert list(logs.calls["call_id"]) == ["a"]
    assert problem_rows(logs) == [
        (None, "data[]", "invalid_record", "3"),
        (None, "data[]", "invalid_record", "junk"),
        (None, "responseCode", "failed_response", "4001: Workflow not found"),
    ]


@pytest.mark.parametrize(
    "content, message",
    [("{not json", "not valid JSON"), ("42", "a JSON int"), ('{"hello": 1}', "not a log"),
     ('["a", "b"]', "no JSON objects"), ('{"responseCode": 2000, "data": "x"}', "'data' is a str")],
)
def test_unreadable_source_names_the_file(tmp_path, content, message):
    path = tmp_path / "export.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError, match=message) as raised:
        load_logs(path)
    assert str(path) in str(raised.value)
    assert "expected" in str(raised.value)


def test_missing_file_and_wrong_type(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        load_logs(tmp_path / "nope.json")
    with pytest.raises(SourceError, match="cannot load a int"):
        load_logs(42)


def test_json_file_holding_json_lines_is_read(tmp_path):
    path = cases.json_file_holding_json_lines(tmp_path)
    assert list(load_logs(path).calls["call_id"]) == ["a", "b"]


# --- duplicates and nothing lost -------------------------------------------------------

def test_duplicate_id_keeps_newest_update():
    new, other, old = cases.duplicate_copies()
    logs = load_logs([new, other, old])  # the newer copy comes first
    calls = logs.calls.set_index("call_id")
    assert list(calls.index) == ["a", "b"]
    assert calls.loc["a", "goal_achieved"] == True  # noqa: E712
    assert list(logs.turns.loc[logs.turns["call_id"] == "a", "content"]) == ["again"]
    duplicate = logs.problems[logs.problems["problem"] == "duplicate_id"]
    assert list(duplicate["call_id"]) == ["a"]
    assert json.loads(duplicate["value"].iloc[0]) == old  # the dropped copy, whole
    assert len(logs.problems) == 2  # plus b's unknown duration


def test_no_empty_strings_or_nan_text_anywhere():
    logs = load_logs(cases.blank_strings())
    for column, dtype in schema.CALLS.items():
        if dtype == "string":
            values = logs.calls[column].dropna()
            assert not (values.str.strip() == "").any(), column
            assert not values.isin(["nan", "None", "<NA>"]).any(), column
    assert pd.isna(logs.calls["tester_name"].iloc[0])


def test_missing_required_fields_are_reported():
    logs = load_logs(cases.missing_required_fields())
    assert problem_rows(logs) == [
        (None, "id", "missing_field", None),
        ("a", "created_at", "missing_field", None),
        ("a", "test_result.goal_achieved", "missing_field", None),
    ]
    assert len(logs.calls) == 2


def test_other_roles_are_kept():
    logs = load_logs(cases.other_roles())
    assert list(logs.turns["role"]) == ["system", "user", "tool"]
    assert list(logs.turns["role"].cat.categories) == ["user", "assistant", "system", "tool"]
    assert logs.calls["n_user_turns"].iloc[0] == 1 and logs.calls["n_turns"].iloc[0] == 3
