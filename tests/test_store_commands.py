"""Sync from the fake API into the store, end to end, and the store commands."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_log

from malakai_analytics import store
from malakai_analytics.cli import main
from malakai_analytics.client import MalakaiClient
from malakai_analytics.fake_server import FakeMalakaiServer, Fault
from malakai_analytics.sample import sample_path

ROOT = Path(__file__).resolve().parents[1]
KEY, TOKEN = "store-test-key-5b1e", "store-test-token-c77a"


def workflow(workflow_id, n, **overrides):
    return [make_log(id=f"{workflow_id}-{i}", workflow_id=workflow_id, **overrides)
            for i in range(n)]


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("MALAKAI_API_KEY", KEY)
    monkeypatch.setenv("MALAKAI_ACCESS_TOKEN", TOKEN)


def test_sync_twice_with_changed_logs(tmp_path, credentials):
    db = tmp_path / "s.duckdb"
    logs = {"wf-a": workflow("wf-a", 3), "wf-b": workflow("wf-b", 2)}
    with FakeMalakaiServer(copy.deepcopy(logs), api_key=KEY, access_token=TOKEN) as server:
        with MalakaiClient(base_url=server.url) as client:
            first = store.sync(["wf-a", "wf-b"], db, client=client)
            assert [(r.new, r.updated, r.unchanged) for r in first.values()] == [(3, 0, 0),
                                                                                (2, 0, 0)]
            again = store.sync(["wf-a", "wf-b"], db, client=client)
            assert [(r.new, r.updated, r.unchanged) for r in again.values()] == [(0, 0, 3),
                                                                                (0, 0, 2)]
            # Between syncs: one outcome flips (a newer update), one call is new.
            changed = copy.deepcopy(logs["wf-a"])
            changed[1]["updated_at"] = "2025-07-10T08:00:00.000Z"
            changed[1]["test_result"]["goal_achieved"] = "yes"
            changed.append(make_log(id="wf-a-3", workflow_id="wf-a"))
            server.add_workflow("wf-a", changed)
            third = store.sync(["wf-a"], db, client=client)["wf-a"]
    assert (third.received, third.new, third.updated, third.unchanged) == (4, 1, 1, 2)
    change = store.changes(db, since=4)
    assert change[["call_id", "change", "field", "before", "after"]].astype(object).where(
        change.notna(), None).values.tolist() == [
        ["wf-a-1", "updated", "goal_achieved", "False", "True"],
        ["wf-a-3", "new", None, None, None],
    ]
    calls = store.load_store(db).calls
    assert len(calls) == 6 and calls["goal_achieved"].sum() == 1
    log = store.sync_log(db)
    assert log[["workflow_id", "received", "new", "updated", "unchanged"]].values.tolist() == [
        ["wf-a", 3, 3, 0, 0], ["wf-b", 2, 2, 0, 0], ["wf-a", 3, 0, 0, 3], ["wf-b", 2, 0, 0, 2],
        ["wf-a", 4, 1, 1, 2]]


def test_sync_keeps_going_when_one_workflow_fails(tmp_path, credentials):
    db = tmp_path / "s.duckdb"
    with FakeMalakaiServer({"wf-a": workflow("wf-a", 2)}, api_key=KEY,
                           access_token=TOKEN) as server:
        server.always(Fault.html(503), workflow_id="wf-down")
        with MalakaiClient(base_url=server.url) as client:
            results = store.sync(["wf-down", "wf-a", "wf-missing"], db, client=client)
    assert results["wf-a"].new == 2
    log = store.sync_log(db).set_index("workflow_id")
    assert "503" in log.loc["wf-down", "error"]
    assert "wf-missing" in log.loc["wf-missing", "error"]
    assert pd.isna(log.loc["wf-a", "error"])
    text = db.read_bytes()
    assert KEY.encode() not in text and TOKEN.encode() not in text


def run_cli(*args, env_extra=None, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MALAKAI_API_KEY": KEY,
           "MALAKAI_ACCESS_TOKEN": TOKEN, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "malakai_analytics", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_ingest_sync_report_export(tmp_path):
    db = tmp_path / "cli.duckdb"
    done = run_cli("ingest", str(sample_path()), "--db", str(db), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("722 received: 720 new, 0 updated, 0 unchanged, "
                                        "11 problems")
    with FakeMalakaiServer({"wf-x": workflow("wf-x", 2)}, api_key=KEY,
                           access_token=TOKEN) as server:
        done = run_cli("sync", "wf-x", "--db", str(db), "--base-url", server.url, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "synced wf-x" in done.stdout and "2 new" in done.stdout
        done = run_cli("sync", "wf-nope", "--db", str(db), "--base-url", server.url,
                       cwd=tmp_path)
        assert done.returncode == 1 and "wf-nope" in done.stderr
        assert "Traceback" not in done.stderr
    done = run_cli("report", "--db", str(db), "--out", str(tmp_path / "rep"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "reporting on 722 calls" in done.stdout
    assert (tmp_path / "rep" / "index.html").exists()
    done = run_cli("export", "--db", str(db), "--out", str(tmp_path / "exp"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("exported ") and "parquet" in done.stdout
    assert list((tmp_path / "exp" / "calls").glob("month=*/*.parquet"))
    for output in (done.stdout, done.stderr):
        assert KEY not in output and TOKEN not in output


def test_cli_store_in_use_is_one_line(tmp_path):
    db = tmp_path / "busy.duckdb"
    store.ingest([make_log(id="a")], db)
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(60)", str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        done = run_cli("ingest", str(sample_path()), "--db", str(db), cwd=tmp_path)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"malakai-analytics: error: {db}: store in use by another process; wait for it to "
        "finish and retry"]


def test_report_fetches_with_workflow_id(tmp_path, capsys, credentials, monkeypatch):
    with FakeMalakaiServer({"wf-r": workflow("wf-r", 3)}, api_key=KEY,
                           access_token=TOKEN) as server:
        monkeypatch.setenv("MALAKAI_BASE_URL", server.url)
        assert main(["report", "--workflow-id", "wf-r", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "reporting on 3 calls" in out
    assert (tmp_path / "r" / "charts" / "goal_rate_by_agent.png").exists()
    assert KEY not in out and TOKEN not in out


def test_report_rejects_mixed_sources(tmp_path, capsys):
    assert main(["report", str(sample_path()), "--db", str(tmp_path / "x.duckdb")]) == 1
    assert "not several" in capsys.readouterr().err
