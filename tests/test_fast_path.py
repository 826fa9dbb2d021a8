"""The fast path of load_logs gives exactly the frames of the reference path."""

from __future__ import annotations

import json
from collections import OrderedDict

import loader_cases as cases
import pandas as pd
import pytest
from conftest import envelope, example_envelope, make_log

from malakai_analytics import load_logs, loader, sample
from malakai_analytics.schema import CALL_SOURCE_FIELDS


def assert_same(make_source):
    """load_logs(fast=True) == load_logs(fast=False), table by table, exactly."""
    fast = load_logs(make_source(), fast=True)
    general = load_logs(make_source(), fast=False)
    for table in ("calls", "turns", "problems"):
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(general, table),
                                      check_exact=True, obj=table)
    return fast


@pytest.fixture(params=["default", "python"])
def string_storage(request):
    """Run with pandas' default string storage (pyarrow here) and with Python's."""
    if request.param == "default":
        yield
    else:
        with pd.option_context("mode.string_storage", "python"):
            assert pd.StringDtype().storage == "python"
            yield


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 7 records, so that every table is built from several chunks."""
    monkeypatch.setattr(loader, "CHUNK_RECORDS", 7)


# --- every case ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_every_case(name, string_storage):
    assert_same(cases.CASES[name])


@pytest.mark.parametrize("name", sorted(cases.FILE_CASES))
def test_every_file_case(name, tmp_path, string_storage):
    assert_same(lambda: cases.FILE_CASES[name](tmp_path))


# --- the bundled sample ----------------------------------------------------------------

def test_bundled_sample(string_storage):
    logs = assert_same(sample.sample_path)
    assert len(logs.calls) == 720 and (logs.problems["problem"] == "duplicate_id").sum() == 2


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_sample_in_small_chunks(tmp_path, small_chunks, suffix):
    """Duplicates fall in other chunks than their copies; JSONL copies are read again."""
    path = sample.write_sample(tmp_path / f"sample{suffix}")
    logs = assert_same(lambda: path)
    reference = load_logs(sample.sample_path(), fast=False)
    for table in ("calls", "turns", "problems"):
        pd.testing.assert_frame_equal(getattr(logs, table), getattr(reference, table))


def test_sample_logs_in_memory(small_chunks):
    assert_same(sample.generate_logs)


def test_jsonl_is_read_in_chunks(tmp_path, small_chunks, monkeypatch):
    path = sample.write_sample(tmp_path / "sample.jsonl")
    sizes = []
    add = loader._Builder.add
    monkeypatch.setattr(loader._Builder, "add",
                        lambda self, records: (sizes.append(len(records)), add(self, records)))
    assert len(load_logs(path).calls) == 720
    assert sum(sizes) == 722 and max(sizes) == 7


# --- what the fast path does its own way -------------------------------------------------

def test_every_field_lands_in_its_column():
    log = make_log()
    for column, field in CALL_SOURCE_FIELDS.items():
        holder, key = (log["test_result"], field.split(".")[1]) if "." in field else (log, field)
        holder[key] = f"value of {column}"
    logs = assert_same(lambda: [log])
    for column in CALL_SOURCE_FIELDS:
        assert logs.calls[column].iloc[0] == f"value of {column}"


def odd_values():
    """Values of every type where text is expected, and conversations of every shape."""
    class Log(dict):
        pass

    odd = [
        make_log(id=7, tester_phone=5551234, status=True, agent_id=1.5, tester_name=["x"]),
        make_log(id="text-result", test_result="not an object"),
        make_log(id="list-result", test_result=[1, 2]),
        make_log(id="  ", workflow_id={"w": 1}),
        make_log(id="nan", test_result__call_duration=float("nan"),
                 test_result__goal_achieved=float("nan"), test_result__sentiment=float("nan")),
        make_log(id="nums", test_result__call_duration=210.5, test_result__goal_achieved=1.0,
                 test_result__sentiment=3),
        make_log(id="bools", test_result__call_duration=True, test_result__goal_achieved=True),
        make_log(id="lists", test_result__call_duration=[210], test_result__goal_achieved={"y": 1},
                 test_result__sentiment=["neutral"]),
        make_log(id="spaces", test_result__conversation='  [{"role": "user", "content": "x"}]  '),
        make_log(id="trailing", test_result__conversation='[{"role": "user", "content": "x"}] x'),
        make_log(id="null-text", test_result__conversation="null"),
        make_log(id="blank-text", test_result__conversation="   "),
        make_log(id="no-keys",
                 test_result__conversation='[{"content": "x"}, {"role": "user"}, {}]'),
        make_log(id="odd-roles", test_result__conversation=json.dumps(
            [{"role": 5, "content": "a"}, {"role": None, "content": "b"},
             {"role": "", "content": "c"}, {"role": "User", "content": "d"}])),
        make_log(id="odd-content", test_result__conversation=json.dumps(
            [{"role": "user", "content": 1.5}, {"role": "user", "content": {"t": 1}},
             {"role": "user", "content": None}, {"role": "user", "content": ["a"]},
             [1], "text", 3, None])),
        make_log(id="unicode", test_result__conversation=json.dumps(
            [{"role": "user", "content": "Grüße, ça va? 東京 — ok\u2028next\u00a0word"},
             {"role": "assistant", "content": "\u3000\u2003 ...  ¡Sí! 42"}], ensure_ascii=False)),
        make_log(id="decoded", test_result__conversation=[
            OrderedDict(role="user", content="ordered"), {"role": "assistant", "content": "x"},
            "not a message"]),
        make_log(id="no-conversation", _drop=("test_result__conversation",)),
        Log(make_log(id="subclass")),
        make_log(id="stamps", created_at=1751973563, updated_at="2025-07-08 11:23:46"),
        make_log(id="late", created_at="2025-07-08T11:19:23.123456789Z", updated_at=None),
        make_log(id="late", updated_at=None),  # duplicates with no update time
        make_log(_drop=("id",), updated_at="2020-01-01T00:00:00Z"),
        make_log(_drop=("id",), updated_at="2030-01-01T00:00:00Z"),
        make_log(id="", updated_at="2030-01-01T00:00:00Z"),
        make_log(id="", updated_at="2031-01-01T00:00:00Z"),
        make_log(id=7, updated_at="2031-01-01T00:00:00Z"),  # replaces the first record
        "not a record",
    ]
    return odd


def test_odd_values(string_storage):
    logs = assert_same(odd_values)
    assert "7" in set(logs.calls["call_id"])


def test_odd_values_in_small_chunks(small_chunks):
    assert_same(lambda: odd_values() * 3)


def test_jsonl_details(tmp_path, small_chunks):
    """CRLF endings, U+2028 inside strings, envelopes per line, duplicates across them."""
    logs = [make_log(id=str(i % 5), updated_at=f"2025-07-{10 + i:02d}T00:00:00Z",
                     test_result__call_summary=f"summary\u2028line {i}") for i in range(12)]
    lines = [json.dumps(envelope(logs[:4]), ensure_ascii=False),
             "", "   ", "{not json",
             *(json.dumps(log, ensure_ascii=False) for log in logs[4:9]),
             json.dumps([logs[9], envelope(logs[10:])], ensure_ascii=False),
             json.dumps({"responseCode": 5000, "message": "down", "data": []})]
    path = tmp_path / "logs.jsonl"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    result = assert_same(lambda: path)
    assert len(result.calls) == 5
    assert (result.problems["problem"] == "duplicate_id").sum() == 7
    assert list(result.problems["problem"][:2]) == ["invalid_json", "failed_response"]


def test_many_sources_at_once(tmp_path, small_chunks):
    json_path = sample.write_sample(tmp_path / "a.json", 60, seed=1, messy=False)
    jsonl_path = sample.write_sample(tmp_path / "b.jsonl")
    assert_same(lambda: [json_path, jsonl_path, str(json_path)])
    assert_same(lambda: [example_envelope(), *sample.generate_logs(60, messy=False)])


def envelope_texts():
    """JSON files of the envelope shape, and of shapes close to it."""
    a, b = json.dumps(make_log(id="a")), json.dumps(make_log(id="b"))
    dup = json.dumps(make_log(id="a", updated_at="2030-01-01T00:00:00Z"))
    return {
        "plain": f'{{"responseCode": 2000, "message": "ok", "data": [{a}, {b}]}}',
        "spaced": f' \n {{ "message" : "ok" ,\r\n "responseCode":2000,"data":[ {a} ,\n{b} ] }} \n',
        "empty": '{"responseCode": 2000, "message": "ok", "data": []}',
        "empty spaced": '{"responseCode": 2000, "message": "ok", "data": [ \n ]}',
        "failed": f'{{"responseCode": 5000, "message": "down", "data": [{a}]}}',
        "junk items": f'{{"responseCode": 2000, "data": [1, "x", null, {a}, [{b}]]}}',
        "duplicates": f'{{"responseCode": 2000, "message": "ok", "data": [{a}, {b}, {dup}]}}',
        "key after data": f'{{"responseCode": 2000, "data": [{a}], "message": "late"}}',
        "data twice": f'{{"responseCode": 2000, "data": [{a}], "data": [{b}]}}',
        "key twice": f'{{"responseCode": 5000, "responseCode": 2000, "data": [{a}]}}',
        "no code": f'{{"data": [{a}]}}',
        "a log": f'{{"id": "x", "data": [{a}]}}',
        "fetch record":
            f'{{"workflow_id": "w", "response": {{"responseCode": 2000, "data": [{a}]}}}}',
        "fetch-like": f'{{"workflow_id": "w", "response": {{}}, "message": "m", "data": [{a}]}}',
        "data not a list": '{"responseCode": 2000, "data": {"a": 1}}',
        "data null": '{"responseCode": 2000, "message": "ok", "data": null}',
        "trailing text": f'{{"responseCode": 2000, "data": [{a}]}} x',
        "two documents": f'{{"responseCode": 2000, "data": [{a}]}}\n'
                         f'{{"responseCode": 2000, "data": [{b}]}}',
        "bad item": f'{{"responseCode": 2000, "data": [{a}, {{bad}}]}}',
        "missing comma": f'{{"responseCode": 2000, "data": [{a} {b}]}}',
        "trailing comma": f'{{"responseCode": 2000, "data": [{a},]}}',
        "unclosed": f'{{"responseCode": 2000, "data": [{a}',
        "bom": f'\ufeff{{"responseCode": 2000, "data": [{a}]}}',
        "escaped key": f'{{"respons\\u0065Code": 2000, "data": [{a}]}}',
        "nan": f'{{"responseCode": NaN, "data": [{a}]}}',
        "a list": f'[{{"responseCode": 2000, "data": [{a}]}}]',
        "odd ids": '{"responseCode": 2000, "data": [' + ", ".join(
            json.dumps(make_log(id=value)) for value in ([1], {"x": 1}, 7, "7", None, [1], "7"))
        + "]}",
    }


@pytest.mark.parametrize("name", sorted(envelope_texts()))
def test_json_files_of_every_shape(name, tmp_path, small_chunks):
    path = tmp_path / "export.json"
    path.write_text(envelope_texts()[name], encoding="utf-8")
    try:
        general = load_logs(path, fast=False)
    except Exception as error:  # the fast path fails the same way
        with pytest.raises(type(error)) as raised:
            load_logs(path)
        assert str(raised.value) == str(error)
        return
    assert_same(lambda: path)
    assert len(general.calls) >= 0


def test_blank_means_the_same_as_strip():
    """The fast path finds blanks with utf8_is_space; .str.strip() trims with
    utf8_trim_whitespace. Both must hold for exactly the same characters."""
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    chars = pa.array([chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000],
                     type=pa.large_string())
    trimmed = pc.equal(pc.utf8_trim_whitespace(chars), "")
    assert trimmed.equals(pc.utf8_is_space(chars))
    assert pc.sum(trimmed).as_py() == 29  # U+0009-000D, 001C-0020, 0085, 00A0, 1680, ...
    blanks = ["", " ", "\t\n", "\u3000", "\u2028", "\x1c", "\u200b", "\ufeff", " x ", "\xa0"]
    assert_same(lambda: [make_log(id=str(i), tester_name=v) for i, v in enumerate(blanks)])


def test_values_only_python_makes():
    """In-memory logs may hold what JSON never gives: bytes, numpy text, pd.NA, ..."""
    import decimal

    import numpy as np

    values = [b"bytes", np.str_("numpy text"), pd.NA, decimal.Decimal("1.5"), np.int64(3),
              bytearray(b"x"), float("inf"), ("a", "tuple")]
    logs = [make_log(id=f"v{i}", tester_name=v, test_result__name=v) for i, v in enumerate(values)]
    logs.append(make_log(id=b"raw id", created_at=b"2025-07-08T11:19:23Z"))
    logs.append(make_log(id="content", test_result__conversation=[
        {"role": b"user", "content": b"bytes"},
        {"role": np.str_("user"), "content": np.str_("x")}]))
    assert_same(lambda: logs)


def test_logs_from_records_equals_load_logs():
    from malakai_analytics.loader import logs_from_records, read_records
    from malakai_analytics.sample import sample_path

    records, problems = read_records(sample_path())
    fast = logs_from_records(records, problems)
    reference = load_logs(sample_path(), fast=False)
    for table in ("calls", "turns", "problems"):
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(reference, table))
