"""load_logs: sources, the documented example, and the loading cases C01-C07."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
import pytest
from conftest import envelope, example_envelope, make_log

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
    a = make_log(id="a", test_result__sentiment="neutral", test_result__call_duration="210 seconds")
    b = make_log(id="b", test_result=None)
    c = make_log(_drop=("test_result",), id="c")
    logs = load_logs([a, b, c])
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
    for source in (envelope([]), {"responseCode": 2000, "message": "ok", "data": None}, []):
        logs = load_logs(source)
        assert_schema(logs)
        assert len(logs.calls) == len(logs.turns) == len(logs.problems) == 0


# --- C02, C03 ------------------------------------------------------------------------

def test_c02_conversation_that_is_not_a_json_list():
    valid = '[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello there"}]'
    decoded = [{"role": "user", "content": "---"}, {"role": "assistant", "content": "Hi"},
               {"role": "user", "content": "Book me"}]
    values = {"valid": valid, "null": None, "empty": "", "bad": "[{bad json", "list": decoded}
    logs = load_logs([make_log(id=k, test_result__conversation=v) for k, v in values.items()])
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
    logs = load_logs([
        make_log(id="obj", test_result__conversation='{"role": "user"}'),
        make_log(id="num", test_result__conversation=5),
        make_log(id="item", test_result__conversation='["oops", {"role": "user", "content": 7}]'),
    ])
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
    logs = load_logs([
        make_log(id="first"),
        make_log(id="empty", test_result__conversation="[]"),
        make_log(id="last"),
    ])
    assert logs.calls.set_index("call_id")["n_turns"]["empty"] == 0
    assert "empty" not in set(logs.turns["call_id"])
    assert len(logs.turns) == 8
    assert list(logs.turns.index) == list(range(8))
    assert list(logs.turns["turn"]) == [0, 1, 2, 3, 0, 1, 2, 3]


# --- C04 -----------------------------------------------------------------------------

def test_c04_timestamps_with_and_without_milliseconds():
    stamps = ["2025-07-08T11:19:23.689Z", "2025-07-08T11:23:46Z", "", None,
              "2025-07-08T11:19:23", "2025-07-08T13:19:23+02:00"]
    logs = load_logs([make_log(id=str(i), created_at=v) for i, v in enumerate(stamps)])
    created = logs.calls["created_at"]
    assert created.iloc[0] == pd.Timestamp("2025-07-08 11:19:23.689", tz="UTC")
    assert created.iloc[1] == pd.Timestamp("2025-07-08 11:23:46", tz="UTC")
    assert pd.isna(created.iloc[2]) and pd.isna(created.iloc[3])
    assert created.iloc[4] == pd.Timestamp("2025-07-08 11:19:23", tz="UTC")  # naive = UTC
    assert created.iloc[5] == pd.Timestamp("2025-07-08 11:19:23", tz="UTC")
    assert logs.problems.empty


def test_unreadable_timestamp_is_a_problem():
    logs = load_logs([make_log(id="x", updated_at="yesterday")])
    assert pd.isna(logs.calls["updated_at"].iloc[0])
    assert problem_rows(logs) == [("x", "updated_at", "invalid_timestamp", "yesterday")]


# --- C06 -----------------------------------------------------------------------------

DURATIONS_210 = ["210 seconds", "210 sec", "210s", "3 min 30 s", "3 minutes 30 seconds",
                 "00:03:30", "3:30", "210", 210, "3.5 minutes"]


def test_c06_human_durations():
    values = DURATIONS_210 + ["1 hour 2 minutes", "", None, "N/A", "210 parsecs"]
    logs = load_logs([make_log(id=str(i), test_result__call_duration=v)
                      for i, v in enumerate(values)])
    seconds = logs.calls["duration_s"]
    assert seconds.iloc[:10].tolist() == [210.0] * 10
    assert seconds.iloc[10] == 3720.0
    assert seconds.iloc[11:].isna().all()
    assert problem_rows(logs) == [
        ("13", "test_result.call_duration", "unknown_duration", "N/A"),
        ("14", "test_result.call_duration", "unknown_duration", "210 parsecs"),
    ]


def test_c06_mean_duration_over_known_calls():
    logs = load_logs([make_log(id=str(i), test_result__call_duration=v)
                      for i, v in enumerate(["210 seconds", "", None, "3 min"])])
    summary = duration_summary(logs.calls).iloc[0]
    assert summary["mean"] == 195.0 and summary["known"] == 2 and summary["calls"] == 4
    assert summary["total"] == 390.0 and summary["min"] == 180.0 and summary["max"] == 210.0


# --- C07 -----------------------------------------------------------------------------

def test_c07_yes_no_outcomes():
    values = ["yes", "no", "", None, "Yes "]
    logs = load_logs([make_log(id=str(i), test_result__goal_achieved=v)
                      for i, v in enumerate(values)])
    goal = logs.calls["goal_achieved"]
    assert goal.iloc[0] == True and goal.iloc[1] == False and goal.iloc[4] == True  # noqa: E712
    assert pd.isna(goal.iloc[2]) and pd.isna(goal.iloc[3])
    rate = goal_rate(logs.calls).iloc[0]
    assert (rate["calls"], rate["known"], rate["achieved"]) == (5, 3, 2)
    assert rate["rate"] == pytest.approx(2 / 3)
    assert logs.problems.empty


@pytest.mark.parametrize(
    "raw, expected",
    [("no", False), ("NO", False), ("n", False), ("false", False), ("0", False), (0, False),
     (False, False), ("yes", True), ("Y", True), ("TRUE", True), ("1", True), (1, True),
     (True, True)],
)
def test_c07_every_spelling(raw, expected):
    calls = load_logs([make_log(id="x", test_result__goal_achieved=raw)]).calls
    assert bool(calls["goal_achieved"].iloc[0]) is expected


def test_unknown_outcome_and_label_become_problems():
    logs = load_logs([
        make_log(id="a", test_result__goal_achieved="maybe", test_result__sentiment="mixed"),
        make_log(id="b", test_result__sentiment=" Positive "),
        make_log(id="c", test_result__sentiment="NEGATIVE"),
    ])
    calls = logs.calls.set_index("call_id")
    assert pd.isna(calls.loc["a", "goal_achieved"]) and pd.isna(calls.loc["a", "sentiment"])
    assert calls.loc["b", "sentiment"] == "positive" and calls.loc["c", "sentiment"] == "negative"
    assert problem_rows(logs) == [
        ("a", "test_result.goal_achieved", "unknown_label", "maybe"),
        ("a", "test_result.sentiment", "unknown_label", "mixed"),
    ]


# --- sources -------------------------------------------------------------------------

def test_every_source_shape_gives_the_same_calls(tmp_path, example_path):
    log = example_envelope()["data"][0]
    jsonl_logs = tmp_path / "logs.jsonl"
    jsonl_logs.write_text(json.dumps(log) + "\n\n", encoding="utf-8")
    jsonl_envelopes = tmp_path / "envelopes.ndjson"
    jsonl_envelopes.write_text(json.dumps(example_envelope()) + "\n", encoding="utf-8")
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps([log]), encoding="utf-8")
    fetched = tmp_path / "fetched.json"
    fetched.write_text(json.dumps([{"workflow_id": "w", "fetched_at": "2025-07-09T00:00:00Z",
                                    "response": example_envelope()}]), encoding="utf-8")
    expected = load_logs(example_path).calls
    sources = [jsonl_logs, str(jsonl_envelopes), bare, fetched, example_envelope(), [log],
               [example_envelope()], {**example_envelope(), "responseCode": "2000"}]
    for source in sources:
        pd.testing.assert_frame_equal(load_logs(source).calls, expected)


def test_several_sources_at_once(tmp_path):
    one = tmp_path / "one.json"
    two = tmp_path / "two.jsonl"
    one.write_text(json.dumps(envelope([make_log(id="a", workflow_id="w1")])), encoding="utf-8")
    two.write_text(json.dumps(make_log(id="b", workflow_id="w2")) + "\n", encoding="utf-8")
    calls = load_logs([one, str(two)]).calls
    assert list(calls["call_id"]) == ["a", "b"]
    assert list(calls["workflow_id"]) == ["w1", "w2"]


def test_bad_jsonl_line_is_a_problem_not_a_stop(tmp_path):
    path = tmp_path / "logs.jsonl"
    path.write_text(json.dumps(make_log(id="a")) + "\n{truncated\n"
                    + json.dumps(make_log(id="b")) + "\n", encoding="utf-8")
    logs = load_logs(path)
    assert list(logs.calls["call_id"]) == ["a", "b"]
    assert problem_rows(logs) == [(None, "line 2", "invalid_json", "{truncated")]


def test_failure_response_code_and_bad_records_are_problems():
    logs = load_logs([
        {"responseCode": 4001, "message": "Workflow not found", "data": []},
        {"responseCode": 2000, "message": "ok", "data": [make_log(id="a"), "junk", 3]},
    ])
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
    path = tmp_path / "export.json"
    path.write_text(json.dumps(make_log(id="a")) + "\n" + json.dumps(make_log(id="b")) + "\n",
                    encoding="utf-8")
    assert list(load_logs(path).calls["call_id"]) == ["a", "b"]


# --- duplicates and nothing lost -------------------------------------------------------

def test_duplicate_id_keeps_newest_update():
    old = make_log(id="a", updated_at="2025-07-08T11:23:46.757Z", test_result__goal_achieved="no")
    new = make_log(id="a", updated_at="2025-07-09T08:00:00Z", test_result__goal_achieved="yes",
                   test_result__conversation='[{"role": "user", "content": "again"}]')
    other = make_log(id="b", test_result__call_duration="soon")
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
    logs = load_logs([make_log(id="a", tester_name="  ", tester_email=""),
                      make_log(id="b", tester_phone=None)])
    for column, dtype in schema.CALLS.items():
        if dtype == "string":
            values = logs.calls[column].dropna()
            assert not (values.str.strip() == "").any(), column
            assert not values.isin(["nan", "None", "<NA>"]).any(), column
    assert pd.isna(logs.calls["tester_name"].iloc[0])


def test_missing_required_fields_are_reported():
    logs = load_logs([make_log(_drop=("created_at", "test_result__goal_achieved"), id="a"),
                      make_log(_drop=("id",))])
    assert problem_rows(logs) == [
        (None, "id", "missing_field", None),
        ("a", "created_at", "missing_field", None),
        ("a", "test_result.goal_achieved", "missing_field", None),
    ]
    assert len(logs.calls) == 2


def test_other_roles_are_kept():
    conversation = json.dumps([{"role": "system", "content": "x"}, {"role": "user", "content": "y"},
                               {"role": "tool", "content": "z"}])
    logs = load_logs([make_log(id="a", test_result__conversation=conversation)])
    assert list(logs.turns["role"]) == ["system", "user", "tool"]
    assert list(logs.turns["role"].cat.categories) == ["user", "assistant", "system", "tool"]
    assert logs.calls["n_user_turns"].iloc[0] == 1 and logs.calls["n_turns"].iloc[0] == 3
