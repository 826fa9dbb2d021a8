"""The DuckDB store: upsert rules, read-back equality, changes, faults, export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import envelope, make_log

from malakai_analytics import load_logs, store
from malakai_analytics.errors import MalakaiError
from malakai_analytics.sample import sample_path

ROOT = Path(__file__).resolve().parents[1]


def assert_same_logs(left, right):
    for table in ("calls", "turns", "problems"):
        pd.testing.assert_frame_equal(getattr(left, table), getattr(right, table), obj=table)


def conversation(*texts):
    roles = ["user", "assistant"]
    return json.dumps([{"role": roles[i % 2], "content": t} for i, t in enumerate(texts)])


@pytest.fixture
def db(tmp_path):
    return tmp_path / "history.duckdb"


def test_ingest_then_read_back_equals_load_logs(db):
    result = store.ingest(sample_path(), db)
    assert (result.received, result.new, result.updated, result.unchanged) == (722, 720, 0, 0)
    assert result.problems == 11
    assert_same_logs(store.load_store(db), load_logs(sample_path()))


def test_same_ingest_twice_changes_nothing(db, tmp_path):
    path = tmp_path / "messy.jsonl"
    path.write_text(json.dumps(make_log(id="a")) + "\n{broken\n"
                    + json.dumps(make_log(id="b", test_result__call_duration="soon")) + "\n",
                    encoding="utf-8")
    first = store.ingest(path, db)
    before = store.load_store(db)
    second = store.ingest(path, db)
    assert (first.new, first.problems) == (2, 2)
    assert (second.new, second.updated, second.unchanged, second.problems) == (0, 0, 2, 0)
    assert_same_logs(store.load_store(db), before)
    assert_same_logs(before, load_logs(path))
    log = store.sync_log(db)
    assert log["ingest_id"].tolist() == [1, 2] and log["new"].tolist() == [2, 0]
    assert log["source"].tolist() == [str(path)] * 2


def test_newest_update_wins_and_older_never_overwrites(db):
    v1 = [make_log(id="a", updated_at="2025-07-08T12:00:00Z", test_result__goal_achieved="no",
                   test_result__conversation=conversation("hi", "hello")),
          make_log(id="b", updated_at="2025-07-08T12:00:00Z", test_result__sentiment="neutral"),
          make_log(id="c", updated_at="2025-07-08T12:00:00Z")]
    store.ingest(envelope(v1), db)
    v2 = [make_log(id="a", updated_at="2025-07-09T09:00:00Z", test_result__goal_achieved="yes",
                   test_result__conversation=conversation("hi", "hello", "book it")),
          make_log(id="b", updated_at="2025-07-01T00:00:00Z", test_result__sentiment="negative"),
          make_log(id="c", updated_at="2025-07-08T12:00:00Z"),
          make_log(id="d")]
    result = store.ingest(envelope(v2), db)
    assert (result.received, result.new, result.updated, result.unchanged) == (4, 1, 1, 2)
    logs = store.load_store(db)
    calls = logs.calls.set_index("call_id")
    assert sorted(calls.index) == ["a", "b", "c", "d"]
    assert calls.loc["a", "goal_achieved"] == True  # noqa: E712
    assert calls.loc["b", "sentiment"] == "neutral"  # the older copy did not overwrite
    turns_a = logs.turns[logs.turns["call_id"] == "a"]
    assert turns_a["content"].tolist() == ["hi", "hello", "book it"]  # replaced, not appended
    change = store.changes(db, since=1)
    assert change[["call_id", "change", "field", "before", "after"]].astype(object).where(
        change.notna(), None).values.tolist() == [
        ["a", "updated", "goal_achieved", "False", "True"],
        ["a", "updated", "n_turns", "2", "3"],
        ["a", "updated", "n_user_turns", "1", "2"],
        ["d", "new", None, None, None],
    ]
    assert change["ingest_id"].tolist() == [2, 2, 2, 2]
    assert store.changes(db, since=2).empty
    with duckdb.connect(str(db), read_only=True) as con:
        raw = con.execute("SELECT call_id, raw FROM raw_logs ORDER BY ingest_id").fetchall()
    assert [r[0] for r in raw] == ["a", "b", "c", "a", "d"]  # every version as received
    assert json.loads(raw[3][1]) == v2[0]


def test_load_store_filters(db):
    logs = [make_log(id="a", agent_id="A", workflow_id="W1", created_at="2025-07-01T10:00:00Z"),
            make_log(id="b", agent_id="B", workflow_id="W1", created_at="2025-07-05T10:00:00Z"),
            make_log(id="c", agent_id="A", workflow_id="W2", created_at="2025-07-09T10:00:00Z")]
    store.ingest(logs, db)
    pick = store.load_store(db, since="2025-07-02", until="2025-07-10", agent_ids=["A"])
    assert pick.calls["call_id"].tolist() == ["c"]
    assert set(pick.turns["call_id"]) == {"c"}
    pick = store.load_store(db, workflow_ids="W1")
    assert pick.calls["call_id"].tolist() == ["a", "b"]
    expected = load_logs(logs).filter(since="2025-07-02", until="2025-07-10", agents=["A"])
    assert_same_logs(store.load_store(db, since="2025-07-02", until="2025-07-10",
                                      agent_ids=["A"]), expected)


def test_sync_with_a_client_counts_and_failures(db):
    class Client:
        def __init__(self):
            self.logs = {"w1": [make_log(id="a", workflow_id="w1"),
                                make_log(id="b", workflow_id="w1")]}

        def get_workflow_logs(self, workflow_id):
            if workflow_id not in self.logs:
                raise MalakaiError(f"workflow {workflow_id} not found")
            return self.logs[workflow_id]

    client = Client()
    first = store.sync(["w1", "nope"], db, client=client)
    assert (first["w1"].new, first["w1"].unchanged) == (2, 0)
    assert isinstance(first["nope"], MalakaiError)
    client.logs["w1"] = [make_log(id="a", workflow_id="w1", updated_at="2026-01-01T00:00:00Z",
                                  test_result__call_duration="99 seconds"),
                         make_log(id="b", workflow_id="w1"), make_log(id="e", workflow_id="w1")]
    second = store.sync(["w1"], db, client=client)["w1"]
    assert (second.received, second.new, second.updated, second.unchanged) == (3, 1, 1, 1)
    log = store.sync_log(db)
    assert log["workflow_id"].tolist() == ["w1", "nope", "w1"]
    assert log["error"].isna().tolist() == [True, False, True]
    assert "not found" in log["error"].iloc[1]
    change = store.changes(db, since=2)
    assert change.loc[change["field"] == "duration_s", ["before", "after"]].values.tolist() == [
        ["210.0", "99.0"]]


def test_schema_version_is_checked(db):
    store.ingest([make_log(id="a")], db)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(store.StoreVersionError, match="schema version 99.*uses 1"):
        store.load_store(db)


def test_not_a_store(tmp_path):
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE x (a INT)")
    with pytest.raises(store.StoreError, match="not a malakai store"):
        store.ingest([make_log(id="a")], other)
    with pytest.raises(store.StoreError, match="no store here"):
        store.load_store(tmp_path / "missing.duckdb")
    text = tmp_path / "text.duckdb"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(store.StoreError):
        store.ingest([make_log(id="a")], text)


def test_store_path_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MALAKAI_DB", str(tmp_path / "env.duckdb"))
    assert store.store_path() == tmp_path / "env.duckdb"
    assert store.store_path("x.duckdb") == Path("x.duckdb")
    monkeypatch.delenv("MALAKAI_DB")
    assert store.store_path() == Path("malakai.duckdb")


HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(60)
"""


def test_second_writer_gets_store_in_use(db):
    store.ingest([make_log(id="a")], db)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(store.StoreBusyError, match="store in use"):
            store.ingest([make_log(id="b")], db)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert store.ingest([make_log(id="b")], db).new == 1  # the file is intact


PAUSER = """
import logging, sys, time
from pathlib import Path
from malakai_analytics import store

class PauseInTransaction(logging.Handler):
    def emit(self, record):
        # Every row is written, the COMMIT not yet sent: kill here.
        if record.getMessage().endswith("written, committing"):
            Path(sys.argv[3]).write_text("in transaction")
            time.sleep(120)

logging.getLogger("malakai_analytics.store").addHandler(PauseInTransaction())
logging.getLogger("malakai_analytics.store").setLevel(logging.DEBUG)
store.ingest(sys.argv[2], sys.argv[1])
"""


def test_killed_ingest_leaves_the_store_as_it_was(db, tmp_path):
    first = tmp_path / "first.json"
    first.write_text(json.dumps(envelope([make_log(id="a"), make_log(id="b")])), encoding="utf-8")
    store.ingest(first, db)
    before = store.load_store(db)
    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", PAUSER, str(db), str(sample_path()),
                              str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the ingest ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert_same_logs(store.load_store(db), before)
    assert store.sync_log(db)["ingest_id"].tolist() == [1]
    result = store.ingest(sample_path(), db)  # the next run completes it
    assert result.new == 720
    assert len(store.load_store(db).calls) == 722


def test_export_parquet_reads_back_without_the_package(db, tmp_path):
    store.ingest(sample_path(), db)
    files = store.export(tmp_path / "out", db, fmt="parquet")
    names = {str(p.relative_to(tmp_path / "out")) for p in files}
    assert {"calls/month=2025-07/data_0.parquet", "calls/month=2025-08/data_0.parquet",
            "turns/month=2025-07/data_0.parquet", "data_dictionary.csv"} <= names
    expected = store.load_store(db)
    with duckdb.connect() as con:
        counts = con.execute(
            f"SELECT month, count(*) FROM read_parquet('{tmp_path}/out/calls/*/*.parquet', "
            "hive_partitioning = true) GROUP BY month ORDER BY month").fetchall()
        turns = con.execute(f"SELECT count(*) FROM read_parquet('{tmp_path}/out/turns/*/*.parquet')"
                            ).fetchall()[0][0]
    july = (expected.calls["created_at"] < pd.Timestamp("2025-08-01", tz="UTC")).sum()
    assert counts == [("2025-07", july), ("2025-08", 720 - july)]
    assert turns == len(expected.turns)
    frame = pd.read_parquet(tmp_path / "out" / "calls")
    frame = frame.sort_values("call_id").reset_index(drop=True)
    ref = expected.calls.sort_values("call_id").reset_index(drop=True)
    assert frame["call_id"].tolist() == ref["call_id"].tolist()
    assert frame["duration_s"].astype("Float64").equals(ref["duration_s"])
    assert (frame["created_at"] == ref["created_at"]).all()
    assert frame["goal_achieved"].astype("boolean").equals(ref["goal_achieved"])
    dictionary = pd.read_csv(tmp_path / "out" / "data_dictionary.csv")
    assert set(dictionary["column"]) >= set(expected.calls.columns)


def test_export_csv(db, tmp_path):
    store.ingest([make_log(id="a", created_at="2025-07-08T11:19:23.689Z")], db)
    store.export(tmp_path / "csv", db, fmt="csv")
    calls = pd.read_csv(next((tmp_path / "csv" / "calls").rglob("*.csv")))
    assert calls["call_id"].tolist() == ["a"] and calls["duration_s"].tolist() == [210.0]
    with pytest.raises(store.StoreError, match="parquet or csv"):
        store.export(tmp_path / "x", db, fmt="xlsx")
