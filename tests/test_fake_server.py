"""Tests of the fake Malakai server itself, with a bare httpx client over loopback."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from malakai_analytics.fake_server import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_API_KEY,
    FakeMalakaiServer,
    Fault,
    demo_log,
    demo_workflows,
)

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}", "x-access-token": DEFAULT_ACCESS_TOKEN}


@pytest.fixture
def server():
    with FakeMalakaiServer(demo_workflows(["wf-a", "wf-b"], calls_per_workflow=2)) as fake:
        yield fake


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        yield client


def test_serves_the_envelope_on_both_paths(server, http):
    assert server.url.startswith("http://127.0.0.1:")
    for path in ("/workflows/logs/wf-a", "/api/api/workflows/logs/wf-a"):
        response = http.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert body["responseCode"] == 2000
        assert body["message"] == "Workflow logs fetched successfully"
        assert [log["id"] for log in body["data"]] == ["wf-a-call-00", "wf-a-call-01"]
    assert [r.path for r in server.requests] == [
        "/workflows/logs/wf-a", "/api/api/workflows/logs/wf-a"]
    assert server.connection_count == 1  # keep-alive


def test_checks_both_headers(server):
    with httpx.Client(base_url=server.url) as bare:
        assert bare.get("/workflows/logs/wf-a").status_code == 401
        only_key = {"Authorization": AUTH["Authorization"]}
        assert bare.get("/workflows/logs/wf-a", headers=only_key).status_code == 401
        wrong = {**AUTH, "x-access-token": "wrong"}
        assert bare.get("/workflows/logs/wf-a", headers=wrong).status_code == 403
    assert [r.authorized for r in server.requests] == [False, False, False]


def test_unknown_workflow_and_path_are_404(http):
    response = http.get("/workflows/logs/nope")
    assert response.status_code == 404
    assert response.json() == {"responseCode": 4004, "message": "Workflow not found"}
    assert http.get("/agents/user").status_code == 404


def test_scripts_run_in_order_per_workflow_then_for_any(server, http):
    server.queue(Fault(503), workflow_id="wf-b")
    server.queue(Fault.rate_limited(retry_after=2), Fault.html(504))
    first = http.get("/workflows/logs/wf-a")
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    assert http.get("/workflows/logs/wf-b").status_code == 503  # its own script first
    gateway = http.get("/workflows/logs/wf-b")
    assert gateway.status_code == 504 and gateway.headers["content-type"] == "text/html"
    assert "<h1>504 Gateway Timeout</h1>" in gateway.text
    assert http.get("/workflows/logs/wf-b").status_code == 200  # scripts used up


def test_always_repeats_until_cleared(server, http):
    server.always(Fault.failure_code("4001", "Workflow is archived"), workflow_id="wf-a")
    for _ in range(2):
        body = http.get("/workflows/logs/wf-a").json()
        assert body["responseCode"] == "4001" and body["message"] == "Workflow is archived"
    assert http.get("/workflows/logs/wf-b").json()["responseCode"] == 2000
    server.always(None, workflow_id="wf-a")
    assert http.get("/workflows/logs/wf-a").json()["responseCode"] == 2000


def test_truncated_and_dropped_answers_break_the_connection(server, http):
    server.queue(Fault.truncated(), Fault.dropped())
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/workflows/logs/wf-a")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/workflows/logs/wf-a")
    assert http.get("/workflows/logs/wf-a").status_code == 200
    assert [r.status for r in server.requests] == [200, None, 200]


def test_latency_is_added_to_each_answer():
    with FakeMalakaiServer(demo_workflows(1), latency=0.1) as fake:
        fake.queue(Fault.slow(0.3))
        with httpx.Client(base_url=fake.url, headers=AUTH) as http:
            started = time.monotonic()
            http.get("/workflows/logs/wf-000")
            assert time.monotonic() - started >= 0.4
            started = time.monotonic()
            http.get("/workflows/logs/wf-000")  # the slow fault was used up
            assert 0.1 <= time.monotonic() - started < 0.35


def test_stops_by_itself_after_its_lifetime():
    fake = FakeMalakaiServer(demo_workflows(1), lifetime=0.2).start()
    url = fake.url
    deadline = time.monotonic() + 5
    assert fake.running
    while fake.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not fake.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/workflows/logs/wf-000", headers=AUTH, timeout=1.0)
    fake.stop()  # idempotent


def test_reads_logs_from_files(tmp_path):
    logs = [demo_log("wf-x", 0), demo_log("wf-y", 0), demo_log("wf-x", 1)]
    envelope = tmp_path / "export.json"
    envelope.write_text(json.dumps({"responseCode": 2000, "message": "ok", "data": logs}))
    records = tmp_path / "fetched.jsonl"
    records.write_text("\n".join(
        json.dumps({"workflow_id": "wf-x", "fetched_at": "2025-07-08T00:00:00Z",
                    "response": {"responseCode": 2000, "message": "ok", "data": [log]}})
        for log in logs))
    for path in (envelope, records):
        with FakeMalakaiServer(path) as fake:
            with httpx.Client(base_url=fake.url, headers=AUTH) as http:
                data = http.get("/workflows/logs/wf-x").json()["data"]
        assert [log["id"] for log in data] == ["wf-x-call-00", "wf-x-call-01"]


def test_demo_logs_are_deterministic_and_documented_shape():
    assert demo_workflows(2) == demo_workflows(2)
    log = demo_log("wf-000", 0)
    assert set(log) == {
        "id", "tester_name", "tester_phone", "tester_email", "agent_id", "workflow_id",
        "test_result", "status", "session_id", "created_at", "updated_at"}
    assert isinstance(log["test_result"]["conversation"], str)
    assert json.loads(log["test_result"]["conversation"])[0] == {"role": "user", "content": "---"}
    assert log["test_result"]["call_duration"].endswith(" seconds")
    assert log["created_at"].endswith(".000Z")
