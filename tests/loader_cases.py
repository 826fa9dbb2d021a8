"""Inputs of the loading cases (C01-C07 and the loader's other tests).

test_loader.py asserts their exact values; test_fast_path.py asserts that the fast
path gives the same frames as the reference path on every one of them. Each input is
a function (a fresh copy each call); those that need files take a folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import envelope, example_envelope, make_log

# --- C01 -----------------------------------------------------------------------------

def c01_missing_or_null_test_result():
    return [
        make_log(id="a", test_result__sentiment="neutral",
                 test_result__call_duration="210 seconds"),
        make_log(id="b", test_result=None),
        make_log(_drop=("test_result",), id="c"),
    ]


def c01_empty_sources():
    return [envelope([]), {"responseCode": 2000, "message": "ok", "data": None}, []]


# --- C02, C03 ------------------------------------------------------------------------

C02_VALID = '[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello there"}]'


def c02_conversation_values():
    decoded = [{"role": "user", "content": "---"}, {"role": "assistant", "content": "Hi"},
               {"role": "user", "content": "Book me"}]
    return {"valid": C02_VALID, "null": None, "empty": "", "bad": "[{bad json", "list": decoded}


def c02_conversation_not_a_json_list():
    return [make_log(id=k, test_result__conversation=v)
            for k, v in c02_conversation_values().items()]


def c02_conversation_of_other_shapes():
    return [
        make_log(id="obj", test_result__conversation='{"role": "user"}'),
        make_log(id="num", test_result__conversation=5),
        make_log(id="item", test_result__conversation='["oops", {"role": "user", "content": 7}]'),
    ]


def c03_empty_conversation():
    return [
        make_log(id="first"),
        make_log(id="empty", test_result__conversation="[]"),
        make_log(id="last"),
    ]


# --- C04 -----------------------------------------------------------------------------

C04_STAMPS = ["2025-07-08T11:19:23.689Z", "2025-07-08T11:23:46Z", "", None,
              "2025-07-08T11:19:23", "2025-07-08T13:19:23+02:00"]


def c04_timestamps():
    return [make_log(id=str(i), created_at=v) for i, v in enumerate(C04_STAMPS)]


def unreadable_timestamp():
    return [make_log(id="x", updated_at="yesterday")]


# --- C06 -----------------------------------------------------------------------------

DURATIONS_210 = ["210 seconds", "210 sec", "210s", "3 min 30 s", "3 minutes 30 seconds",
                 "00:03:30", "3:30", "210", 210, "3.5 minutes"]
C06_VALUES = DURATIONS_210 + ["1 hour 2 minutes", "", None, "N/A", "210 parsecs"]
C06_MEAN_VALUES = ["210 seconds", "", None, "3 min"]


def c06_human_durations():
    return [make_log(id=str(i), test_result__call_duration=v) for i, v in enumerate(C06_VALUES)]


def c06_mean_duration():
    return [make_log(id=str(i), test_result__call_duration=v)
            for i, v in enumerate(C06_MEAN_VALUES)]


# --- C07 -----------------------------------------------------------------------------

C07_VALUES = ["yes", "no", "", None, "Yes "]
C07_SPELLINGS = [
    ("no", False), ("NO", False), ("n", False), ("false", False), ("0", False), (0, False),
    (False, False), ("yes", True), ("Y", True), ("TRUE", True), ("1", True), (1, True),
    (True, True),
]


def c07_yes_no():
    return [make_log(id=str(i), test_result__goal_achieved=v) for i, v in enumerate(C07_VALUES)]


def c07_spelling(raw):
    return [make_log(id="x", test_result__goal_achieved=raw)]


def c07_every_spelling():
    """All the spellings in one load."""
    return [make_log(id=str(i), test_result__goal_achieved=raw)
            for i, (raw, _) in enumerate(C07_SPELLINGS)]


def unknown_outcome_and_labels():
    return [
        make_log(id="a", test_result__goal_achieved="maybe", test_result__sentiment="mixed"),
        make_log(id="b", test_result__sentiment=" Positive "),
        make_log(id="c", test_result__sentiment="NEGATIVE"),
    ]


# --- sources -------------------------------------------------------------------------

def every_source_shape(folder: Path) -> list:
    """The example's log in every shape a source takes (each gives the same calls)."""
    log = example_envelope()["data"][0]
    jsonl_logs = folder / "logs.jsonl"
    jsonl_logs.write_text(json.dumps(log) + "\n\n", encoding="utf-8")
    jsonl_envelopes = folder / "envelopes.ndjson"
    jsonl_envelopes.write_text(json.dumps(example_envelope()) + "\n", encoding="utf-8")
    bare = folder / "bare.json"
    bare.write_text(json.dumps([log]), encoding="utf-8")
    fetched = folder / "fetched.json"
    fetched.write_text(json.dumps([{"workflow_id": "w", "fetched_at": "2025-07-09T00:00:00Z",
                                    "response": example_envelope()}]), encoding="utf-8")
    return [jsonl_logs, str(jsonl_envelopes), bare, fetched, example_envelope(), [log],
            [example_envelope()], {**example_envelope(), "responseCode": "2000"}]


def several_sources(folder: Path) -> list:
    one = folder / "one.json"
    two = folder / "two.jsonl"
    one.write_text(json.dumps(envelope([make_log(id="a", workflow_id="w1")])), encoding="utf-8")
    two.write_text(json.dumps(make_log(id="b", workflow_id="w2")) + "\n", encoding="utf-8")
    return [one, str(two)]


def bad_jsonl_line(folder: Path) -> Path:
    path = folder / "logs.jsonl"
    path.write_text(json.dumps(make_log(id="a")) + "\n{truncated\n"
                    + json.dumps(make_log(id="b")) + "\n", encoding="utf-8")
    return path


def failure_response_and_bad_records():
    return [
        {"responseCode": 4001, "message": "Workflow not found", "data": []},
        {"responseCode": 2000, "message": "ok", "data": [make_log(id="a"), "junk", 3]},
    ]


def json_file_holding_json_lines(folder: Path) -> Path:
    path = folder / "export.json"
    path.write_text(json.dumps(make_log(id="a")) + "\n" + json.dumps(make_log(id="b")) + "\n",
                    encoding="utf-8")
    return path


# --- duplicates and nothing lost -------------------------------------------------------

def duplicate_copies():
    """(newer, other, older): the newer copy of "a" comes first in the load."""
    old = make_log(id="a", updated_at="2025-07-08T11:23:46.757Z", test_result__goal_achieved="no")
    new = make_log(id="a", updated_at="2025-07-09T08:00:00Z", test_result__goal_achieved="yes",
                   test_result__conversation='[{"role": "user", "content": "again"}]')
    other = make_log(id="b", test_result__call_duration="soon")
    return new, other, old


def duplicate_id():
    new, other, old = duplicate_copies()
    return [new, other, old]


def blank_strings():
    return [make_log(id="a", tester_name="  ", tester_email=""),
            make_log(id="b", tester_phone=None)]


def missing_required_fields():
    return [make_log(_drop=("created_at", "test_result__goal_achieved"), id="a"),
            make_log(_drop=("id",))]


def other_roles():
    conversation = json.dumps([{"role": "system", "content": "x"}, {"role": "user", "content": "y"},
                               {"role": "tool", "content": "z"}])
    return [make_log(id="a", test_result__conversation=conversation)]


#: Every case input that needs no files: name -> function.
CASES = {
    "documented_example": lambda: example_envelope(),
    "c01_missing_or_null_test_result": c01_missing_or_null_test_result,
    "c02_conversation_not_a_json_list": c02_conversation_not_a_json_list,
    "c02_conversation_of_other_shapes": c02_conversation_of_other_shapes,
    "c03_empty_conversation": c03_empty_conversation,
    "c04_timestamps": c04_timestamps,
    "unreadable_timestamp": unreadable_timestamp,
    "c06_human_durations": c06_human_durations,
    "c06_mean_duration": c06_mean_duration,
    "c07_yes_no": c07_yes_no,
    "c07_every_spelling": c07_every_spelling,
    "unknown_outcome_and_labels": unknown_outcome_and_labels,
    "failure_response_and_bad_records": failure_response_and_bad_records,
    "duplicate_id": duplicate_id,
    "blank_strings": blank_strings,
    "missing_required_fields": missing_required_fields,
    "other_roles": other_roles,
    **{f"c01_empty_source_{i}": (lambda i=i: c01_empty_sources()[i]) for i in range(3)},
    **{f"c07_spelling_{i}": (lambda raw=raw: c07_spelling(raw))
       for i, (raw, _) in enumerate(C07_SPELLINGS)},
}

#: Case inputs written to files: name -> function(folder) -> source.
FILE_CASES = {
    **{f"source_shape_{i}": (lambda folder, i=i: every_source_shape(folder)[i]) for i in range(8)},
    "several_sources": several_sources,
    "bad_jsonl_line": bad_jsonl_line,
    "json_file_holding_json_lines": json_file_holding_json_lines,
}
