"""Tests of the API client: httpx.MockTransport units and loopback runs against the fake server.

No test reaches the internet: every request goes to a MockTransport or to
FakeMalakaiServer on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import subprocess
import sys
import time
import traceback
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from malakai_analytics import cli, load_logs
from malakai_analytics.client import (
    DEFAULT_TIMEOUT,
    AsyncMalakaiClient,
    FetchResult,
    MalakaiClient,
    RetryPolicy,
    fetch_for_report,
    parse_retry_after,
    save_fetch_records,
)
from malakai_analytics.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    FetchError,
    MalakaiError,
    MissingCredentialsError,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
    WorkflowNotFoundError,
)
from malakai_analytics.fake_server import FakeMalakaiServer, Fault, demo_workflows

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PATH = Path(__file__).parent / "data" / "get_workflow_logs_example.json"
EXAMPLE_CALL_ID = "d2e86f99-832d-4750-ab14-b50245afa96f"

# Distinctive values, so that a leak anywhere is found by a plain substring search.
KEY = "mk-live-KEY-5c1e9b7d2a"
TOKEN = "at-TOKEN-84f0c3e6b1"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("MALAKAI_API_KEY", "MALAKAI_ACCESS_TOKEN", "MALAKAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def example() -> dict:
    return json.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def server(example):
    workflows = {"wf-example": example["data"], **demo_workflows(3)}
    with FakeMalakaiServer(workflows, api_key=KEY, access_token=TOKEN) as fake:
        yield fake


class Sleeps(list):
    """A recording stand-in for time.sleep."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class AsyncSleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(server, **kwargs) -> MalakaiClient:
    kwargs.setdefault("sleep", Sleeps())
    kwargs.setdefault("rand", lambda: 0.0)
    return MalakaiClient(KEY, TOKEN, base_url=server.url, **kwargs)


def assert_example_call(logs) -> None:
    """The example call of the API reference, read back with its documented values."""
    row = logs.calls[logs.calls["call_id"] == EXAMPLE_CALL_ID]
    assert row["duration_s"].tolist() == [210.0]
    assert row["goal_achieved"].tolist() == [False]
    assert row["sentiment"].astype("string").tolist() == ["neutral"]
    assert row["n_turns"].tolist() == [4]
    assert row["tester_name"].tolist() == ["Laura"]
    assert row["created_at"].tolist() == [pd.Timestamp("2025-07-08T11:19:23.689Z")]


def envelope(data, code=2000, message="Workflow logs fetched successfully") -> dict:
    return {"responseCode": code, "message": message, "data": data}


def mock_client(handler, **kwargs) -> MalakaiClient:
    kwargs.setdefault("sleep", Sleeps())
    kwargs.setdefault("rand", lambda: 0.0)
    return MalakaiClient(KEY, TOKEN, transport=httpx.MockTransport(handler), **kwargs)


def sequence(*responses):
    """A MockTransport handler answering with `responses` in order; records requests."""
    queue = list(responses)
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    handler.seen = seen
    return handler


# --- requests: URL, headers, configuration (MockTransport) ---------------------------

def test_get_sends_both_headers_to_the_documented_url(example):
    handler = sequence(httpx.Response(200, json=example))
    with mock_client(handler) as client:
        logs = client.get_workflow_logs("wf-1")
    assert logs == example["data"]
    (request,) = handler.seen
    assert request.method == "GET"
    assert str(request.url) == "https://api.getmalakai.com/workflows/logs/wf-1"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["x-access-token"] == TOKEN


def test_base_url_from_argument_env_and_the_api_api_variant(monkeypatch, example):
    handler = sequence(httpx.Response(200, json=example))
    monkeypatch.setenv("MALAKAI_BASE_URL", "https://env.example.test/")
    with mock_client(handler) as client:
        client.get_workflow_logs("a b/c")
    with mock_client(handler, base_url="https://api.getmalakai.com/api/api") as client:
        client.get_workflow_logs("wf-2")
    assert [str(r.url) for r in handler.seen] == [
        "https://env.example.test/workflows/logs/a%20b%2Fc",
        "https://api.getmalakai.com/api/api/workflows/logs/wf-2",
    ]


def test_credentials_from_the_environment(monkeypatch, example):
    monkeypatch.setenv("MALAKAI_API_KEY", KEY)
    monkeypatch.setenv("MALAKAI_ACCESS_TOKEN", f"  {TOKEN}\n")
    handler = sequence(httpx.Response(200, json=example))
    with MalakaiClient(transport=httpx.MockTransport(handler)) as client:
        client.get_workflow_logs("wf-1")
    assert handler.seen[0].headers["x-access-token"] == TOKEN


@pytest.mark.parametrize(
    ("key", "token", "named", "not_named"),
    [
        (None, None, ["MALAKAI_API_KEY", "MALAKAI_ACCESS_TOKEN"], []),
        (KEY, None, ["MALAKAI_ACCESS_TOKEN"], ["MALAKAI_API_KEY"]),
        ("   ", TOKEN, ["MALAKAI_API_KEY"], ["MALAKAI_ACCESS_TOKEN"]),
    ],
)
def test_missing_credentials_name_the_variables(key, token, named, not_named):
    with pytest.raises(MissingCredentialsError) as caught:
        MalakaiClient(key, token)
    message = str(caught.value)
    for name in named:
        assert name in message
    for name in not_named:
        assert name not in message
    assert "set the environment variable" in message


def test_unsendable_credentials_are_refused_without_quoting_them():
    with pytest.raises(MissingCredentialsError) as caught:
        MalakaiClient("clé-secrète", TOKEN)
    assert "clé" not in str(caught.value)
    assert "printable ASCII" in str(caught.value)


def test_a_bad_base_url_is_a_clear_error():
    with pytest.raises(MalakaiError, match="not an http"):
        MalakaiClient(KEY, TOKEN, base_url="ftp://api.getmalakai.com")


def test_explicit_timeouts_reach_every_request(example):
    handler = sequence(httpx.Response(200, json=example))
    custom = httpx.Timeout(connect=2.0, read=90.0, write=3.0, pool=4.0)
    with mock_client(handler) as client:
        assert client.timeout == DEFAULT_TIMEOUT
        client.get_workflow_logs("wf-1")
    with mock_client(handler, timeout=custom) as client:
        client.get_workflow_logs("wf-1")
    assert handler.seen[0].extensions["timeout"] == {
        "connect": 10.0, "read": 60.0, "write": 10.0, "pool": 30.0}
    assert handler.seen[1].extensions["timeout"] == {
        "connect": 2.0, "read": 90.0, "write": 3.0, "pool": 4.0}


def test_repr_hides_the_credentials():
    client = MalakaiClient(KEY, TOKEN)
    aclient = AsyncMalakaiClient(KEY, TOKEN, base_url="http://127.0.0.1:9")
    try:
        for text in (repr(client), str(client), repr(aclient), repr(client._core.credentials)):
            assert KEY not in text and TOKEN not in text
        assert repr(client) == (
            "MalakaiClient(base_url='https://api.getmalakai.com', "
            "api_key=<hidden>, access_token=<hidden>)"
        )
    finally:
        client.close()
        asyncio.run(aclient.aclose())


# --- answers: envelope and error statuses (MockTransport) ----------------------------

def test_response_code_as_string_and_null_data_are_success(example):
    body = copy.deepcopy(example)
    body["responseCode"] = "2000"
    handler = sequence(httpx.Response(200, json=body), httpx.Response(200, json=envelope(None)))
    with mock_client(handler) as client:
        assert client.get_workflow_logs("wf-1") == example["data"]
        assert client.get_workflow_logs("wf-1") == []


def test_failure_response_code_under_http_200_is_an_error_with_its_message():
    handler = sequence(httpx.Response(200, json=envelope(None, 4001, "Invalid workflow id")))
    with mock_client(handler) as client, pytest.raises(ResponseFormatError) as caught:
        client.get_workflow_logs("wf-1")
    message = str(caught.value)
    assert "responseCode 4001" in message and "'Invalid workflow id'" in message
    assert "wf-1" in message
    assert len(handler.seen) == 1  # not retried


def test_not_json_names_status_content_type_and_the_first_200_characters():
    body = "<html><body>" + "a" * 188 + "AFTER-200-CHARS" + "b" * 50
    assert body.index("AFTER") == 200
    handler = sequence(httpx.Response(200, text=body, headers={"content-type": "text/html"}))
    with mock_client(handler) as client, pytest.raises(ResponseFormatError) as caught:
        client.get_workflow_logs("wf-1")
    message = str(caught.value)
    assert "HTTP 200" in message and "'text/html'" in message
    assert body[:200] in message
    assert "AFTER" not in message
    assert caught.value.status_code == 200 and caught.value.workflow_id == "wf-1"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([{"id": "x"}], "JSON list"),
        ({"data": []}, "not the documented envelope"),
        (envelope({"id": "x"}), "'data' as a JSON dict"),
    ],
)
def test_json_that_is_not_the_envelope_is_an_error(body, words):
    handler = sequence(httpx.Response(200, json=body))
    with mock_client(handler) as client, pytest.raises(ResponseFormatError, match=words):
        client.get_workflow_logs("wf-1")


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, AuthenticationError, "MALAKAI_API_KEY"),
        (403, AuthenticationError, "MALAKAI_ACCESS_TOKEN"),
        (404, WorkflowNotFoundError, "workflow 'wf-1' was not found"),
        (500, ServerError, "HTTP 500 Internal Server Error"),
        (400, APIError, "HTTP 400 Bad Request"),
    ],
)
def test_error_statuses_that_are_not_retried(status, error, words):
    handler = sequence(httpx.Response(status, json={"message": "nope"}))
    with mock_client(handler) as client, pytest.raises(error) as caught:
        client.get_workflow_logs("wf-1")
    assert type(caught.value) is error
    assert words in str(caught.value)
    assert caught.value.status_code == status
    assert len(handler.seen) == 1


# --- retries (MockTransport) ---------------------------------------------------------

def test_parse_retry_after_seconds_and_http_dates():
    now = datetime(2025, 7, 8, 11, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after("Tue, 08 Jul 2025 10:59:00 GMT", now) == 0.0
    assert parse_retry_after("-5") == 0.0
    for unusable in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(unusable) is None


def test_retry_after_is_honoured_up_to_the_cap(example):
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    handler = sequence(
        httpx.Response(429, headers={"Retry-After": "3600"}),
        httpx.Response(503, headers={"Retry-After": when}),
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(200, json=example),
    )
    sleeps = Sleeps()
    with mock_client(handler, sleep=sleeps, retry=RetryPolicy(max_retry_after=30.0)) as client:
        assert client.get_workflow_logs("wf-1") == example["data"]
    assert sleeps[0] == 30.0
    assert 18.0 < sleeps[1] <= 20.0
    assert sleeps[2] == 2.0
    assert len(handler.seen) == 4


def test_backoff_is_exponential_capped_and_jittered(example):
    statuses = [httpx.Response(s) for s in (502, 503, 504, 502, 503, 504)]
    handler = sequence(*statuses, httpx.Response(200, json=example))
    policy = RetryPolicy(attempts=7, backoff=0.5, max_backoff=4.0, jitter=0.5)
    sleeps = Sleeps()
    with mock_client(handler, sleep=sleeps, retry=policy, rand=lambda: 0.0) as client:
        client.get_workflow_logs("wf-1")
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    # With jitter the wait stays within [delay * (1 - jitter), delay].
    assert policy.backoff_delay(3, 0.999) == pytest.approx(2.0 * (1 - 0.5 * 0.999))
    assert all(1.0 <= policy.backoff_delay(3, r) <= 2.0 for r in (0.0, 0.3, 0.999))


def test_always_429_ends_in_rate_limited_after_the_attempts():
    handler = sequence(httpx.Response(429, headers={"Retry-After": "1"}))
    sleeps = Sleeps()
    with mock_client(handler, sleep=sleeps, retry=RetryPolicy(attempts=3)) as client:
        with pytest.raises(RateLimitedError) as caught:
            client.get_workflow_logs("wf-1")
    assert "HTTP 429" in str(caught.value) and "after 3 attempts" in str(caught.value)
    assert len(handler.seen) == 3 and sleeps == [1.0, 1.0]


def test_connection_errors_and_timeouts_are_retried_then_reported(example):
    request = httpx.Request("GET", "https://api.getmalakai.com/")
    handler = sequence(
        httpx.ConnectError("connection refused", request=request),
        httpx.ReadTimeout("timed out", request=request),
        httpx.Response(200, json=example),
    )
    with mock_client(handler) as client:
        assert client.get_workflow_logs("wf-1") == example["data"]
    assert len(handler.seen) == 3

    refused = sequence(httpx.ConnectError("connection refused", request=request))
    with mock_client(refused, retry=RetryPolicy(attempts=2)) as client:
        with pytest.raises(APIConnectionError) as caught:
            client.get_workflow_logs("wf-1")
    assert type(caught.value) is APIConnectionError
    assert "ConnectError: connection refused" in str(caught.value)
    # No chained httpx exception: its request would carry the headers.
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert "after 2 attempts" in str(caught.value) and len(refused.seen) == 2

    slow = sequence(httpx.ReadTimeout("timed out", request=request))
    with mock_client(slow, retry=RetryPolicy(attempts=2)) as client:
        with pytest.raises(APITimeoutError, match="read 60.0 s"):
            client.get_workflow_logs("wf-1")


def test_async_client_with_mock_transport_retries(example):
    seen = []

    async def handler(request):
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "1"})
        return httpx.Response(200, json=example)

    sleeps = AsyncSleeps()

    async def main():
        async with AsyncMalakaiClient(KEY, TOKEN, transport=httpx.MockTransport(handler),
                                      sleep=sleeps) as client:
            return await client.get_workflow_logs("wf-1")

    assert asyncio.run(main()) == example["data"]
    assert sleeps == [1.0]
    assert seen[1].headers["x-access-token"] == TOKEN


# --- end to end against the fake server ----------------------------------------------

def test_c13_429_then_502_html_then_200_in_three_requests(server, example):
    server.queue(Fault.rate_limited(retry_after=1), Fault.html(502), workflow_id="wf-example")
    sleeps = Sleeps()
    with client_for(server, sleep=sleeps) as client:
        logs = client.get_workflow_logs("wf-example")
    assert logs == example["data"]
    assert [r.status for r in server.requests] == [429, 502, 200]
    assert sleeps[0] == 1.0  # Retry-After: 1 honoured exactly
    assert sleeps[1] == 1.0  # then the 2nd retry's backoff, 0.5 * 2 (rand=0: no jitter)
    assert len(sleeps) == 2


def test_c13_really_waits_about_one_second(server, example):
    server.queue(Fault.rate_limited(retry_after=1), Fault.html(502))
    with client_for(server, sleep=time.sleep, retry=RetryPolicy(backoff=0.05)) as client:
        started = time.monotonic()
        logs = client.get_workflow_logs("wf-example")
        elapsed = time.monotonic() - started
    assert logs == example["data"]
    first, second, third = server.requests
    assert (first.status, second.status, third.status) == (429, 502, 200)
    assert second.at - first.at >= 0.95
    assert elapsed >= 0.95


def test_always_503_ends_in_server_error_naming_503_after_the_attempts(server):
    server.always(Fault(503))
    sleeps = Sleeps()
    with client_for(server, sleep=sleeps, retry=RetryPolicy(attempts=3)) as client:
        with pytest.raises(ServerError) as caught:
            client.get_workflow_logs("wf-000")
    assert caught.value.status_code == 503
    assert "HTTP 503 Service Unavailable" in str(caught.value)
    assert "after 3 attempts" in str(caught.value)
    assert [r.status for r in server.requests] == [503, 503, 503]
    assert len(sleeps) == 2


def test_html_5xx_body_is_not_dumped_into_the_error(server):
    server.always(Fault.html(500))
    with client_for(server) as client, pytest.raises(ServerError) as caught:
        client.get_workflow_logs("wf-000")
    assert "HTTP 500" in str(caught.value) and "<html>" not in str(caught.value)
    assert len(server.requests) == 1


def test_wrong_credentials_against_the_server(server):
    with MalakaiClient(KEY, "wrong-token", base_url=server.url) as client:
        with pytest.raises(AuthenticationError, match="HTTP 403") as caught:
            client.get_workflow_logs("wf-000")
    assert caught.value.status_code == 403
    # Without the headers at all the server answers 401.
    with httpx.Client(base_url=server.url) as raw:
        assert raw.get("/workflows/logs/wf-000").status_code == 401


def test_unknown_workflow_is_named(server):
    with client_for(server) as client, pytest.raises(WorkflowNotFoundError) as caught:
        client.get_workflow_logs("no-such-workflow")
    assert "'no-such-workflow'" in str(caught.value)
    assert caught.value.workflow_id == "no-such-workflow"


def test_failure_code_string_code_and_not_json_from_the_server(server, example):
    server.queue(Fault(response_code="2000"), Fault.failure_code(4001, "Workflow is archived"),
                 Fault.not_json())
    with client_for(server) as client:
        assert client.get_workflow_logs("wf-example") == example["data"]
        with pytest.raises(ResponseFormatError, match="'Workflow is archived'"):
            client.get_workflow_logs("wf-example")
        with pytest.raises(ResponseFormatError, match="text/html; charset=utf-8"):
            client.get_workflow_logs("wf-example")


def test_truncated_body_and_dropped_connection_are_retried(server):
    server.queue(Fault.truncated(), Fault.dropped())
    with client_for(server) as client:
        assert len(client.get_workflow_logs("wf-000")) == 3
    assert [r.status for r in server.requests] == [200, None, 200]
    server.always(Fault.truncated())
    with client_for(server, retry=RetryPolicy(attempts=2)) as client:
        with pytest.raises(APIConnectionError, match="broke before the answer") as caught:
            client.get_workflow_logs("wf-000")
    assert "RemoteProtocolError" in str(caught.value)


def test_read_timeout_against_a_slow_server(server):
    server.queue(Fault.slow(0.4))
    timeout = httpx.Timeout(connect=1.0, read=0.1, write=1.0, pool=1.0)
    with client_for(server, timeout=timeout) as client:
        assert len(client.get_workflow_logs("wf-000")) == 3  # the retry is fast
    server.always(Fault.slow(0.3))
    with client_for(server, timeout=timeout, retry=RetryPolicy(attempts=2)) as client:
        with pytest.raises(APITimeoutError, match="read 0.1 s") as caught:
            client.get_workflow_logs("wf-000")
    assert "after 2 attempts" in str(caught.value)


def test_connection_refused():
    with FakeMalakaiServer() as gone:
        url = gone.url
    with MalakaiClient(KEY, TOKEN, base_url=url, sleep=Sleeps(),
                       retry=RetryPolicy(attempts=2)) as client:
        with pytest.raises(APIConnectionError, match="could not connect") as caught:
            client.get_workflow_logs("wf-000")
    assert type(caught.value) is APIConnectionError


def test_api_api_base_path(server, example):
    with MalakaiClient(KEY, TOKEN, base_url=server.url + "/api/api") as client:
        assert client.get_workflow_logs("wf-example") == example["data"]
    assert server.requests[0].path == "/api/api/workflows/logs/wf-example"


# --- many workflows ------------------------------------------------------------------

@pytest.mark.parametrize("flavour", ["async", "sync"])
def test_c14_fifty_workflows_at_concurrency_ten(flavour):
    workflows = demo_workflows(50)
    # A pool timeout far below the run's length: waiting for the pool would fail.
    timeout = httpx.Timeout(connect=2.0, read=5.0, write=2.0, pool=0.2)
    with FakeMalakaiServer(workflows, api_key=KEY, access_token=TOKEN, latency=0.05) as fake:
        kwargs = dict(base_url=fake.url, timeout=timeout, max_connections=10)
        if flavour == "async":
            async def main():
                async with AsyncMalakaiClient(KEY, TOKEN, **kwargs) as client:
                    return await client.fetch_logs(list(workflows), concurrency=10)
            result = asyncio.run(main())
        else:
            with MalakaiClient(KEY, TOKEN, **kwargs) as client:
                result = client.fetch_logs(list(workflows), concurrency=10)
        assert result.failures == {}
        assert result.workflow_ids == list(workflows)
        assert len(result.calls) == 150
        assert result.calls["workflow_id"].value_counts().eq(3).all()
        assert len(fake.requests) == 50
        assert 2 <= fake.max_in_flight <= 10
        assert fake.connection_count <= 10  # the pool's connections were reused


def test_concurrency_is_capped_at_the_pool_size():
    workflows = demo_workflows(12)
    with FakeMalakaiServer(workflows, api_key=KEY, access_token=TOKEN, latency=0.05) as fake:
        with MalakaiClient(KEY, TOKEN, base_url=fake.url, max_connections=3) as client:
            result = client.fetch_logs(list(workflows), concurrency=50)
        assert len(result.records) == 12
        assert fake.max_in_flight <= 3 and fake.connection_count <= 3


def test_one_failing_workflow_does_not_lose_the_others(server):
    server.always(Fault(503), workflow_id="wf-001")
    ids = ["wf-000", "wf-001", "wf-example", "missing", "wf-002", "wf-000"]
    progress = []
    with client_for(server, retry=RetryPolicy(attempts=2)) as client:
        result = client.fetch_logs(
            ids, concurrency=3, progress=lambda done, total: progress.append((done, total)))
    assert isinstance(result, FetchResult)
    assert result.workflow_ids == ["wf-000", "wf-example", "wf-002"]
    assert sorted(result.failures) == ["missing", "wf-001"]
    assert isinstance(result.failures["wf-001"], ServerError)
    assert isinstance(result.failures["missing"], WorkflowNotFoundError)
    assert len(result.calls) == 7 and not result.ok
    assert EXAMPLE_CALL_ID in set(result.calls["call_id"])
    assert [d for d, _ in progress] == [1, 2, 3, 4, 5] and {t for _, t in progress} == {5}
    assert repr(result) == "FetchResult(workflows=3, failures=2, calls=7, turns=28, problems=0)"


def test_raise_on_error_keeps_the_partial_result(server):
    async def main():
        async with AsyncMalakaiClient(KEY, TOKEN, base_url=server.url) as client:
            return await client.fetch_logs(["wf-000", "missing"], raise_on_error=True)

    with pytest.raises(FetchError) as caught:
        asyncio.run(main())
    assert "1 of 2 workflow(s) failed" in str(caught.value) and "'missing'" in str(caught.value)
    assert list(caught.value.failures) == ["missing"]
    assert caught.value.result.workflow_ids == ["wf-000"]


def test_fetch_for_report(server, monkeypatch):
    monkeypatch.setenv("MALAKAI_API_KEY", KEY)
    monkeypatch.setenv("MALAKAI_ACCESS_TOKEN", TOKEN)
    logs = fetch_for_report(["wf-example", "wf-000"], base_url=server.url)
    assert len(logs.calls) == 4 and logs.calls["call_id"].iloc[0] == EXAMPLE_CALL_ID
    with pytest.raises(FetchError, match="'missing' was not found"):
        fetch_for_report(["wf-000", "missing"], base_url=server.url)
    monkeypatch.delenv("MALAKAI_ACCESS_TOKEN")
    with pytest.raises(MissingCredentialsError, match="MALAKAI_ACCESS_TOKEN"):
        fetch_for_report(["wf-000"], base_url=server.url)


@pytest.mark.parametrize("name", ["logs.json", "logs.jsonl"])
def test_saved_records_are_exact_and_load_back(server, example, tmp_path, name):
    with client_for(server) as client:
        result = client.fetch_logs(["wf-example", "wf-000"])
    path = result.save(tmp_path / "sub" / name)
    text = path.read_text(encoding="utf-8")
    records = ([json.loads(line) for line in text.splitlines()] if name.endswith("l")
               else json.loads(text))
    assert [r["workflow_id"] for r in records] == ["wf-example", "wf-000"]
    assert records[0]["response"] == example  # the envelope exactly as served
    assert set(records[0]) == {"workflow_id", "fetched_at", "response"}
    assert pd.Timestamp(records[0]["fetched_at"]).tzinfo is not None
    logs = load_logs(path)
    assert len(logs.calls) == 4
    assert_example_call(logs)


def test_save_reports_an_unwritable_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(MalakaiError, match="cannot write"):
        save_fetch_records([], blocker / "logs.json")


# --- secrets -------------------------------------------------------------------------

def test_key_and_token_never_appear_in_logs_errors_reprs_or_files(
    example, tmp_path, caplog, capsys, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "malakai_analytics"):
        caplog.set_level(logging.DEBUG, logger=name)
    outputs: list[str] = []
    errors: list[BaseException] = []

    def attempt(call):
        try:
            return call()
        except MalakaiError as error:
            errors.append(error)

    workflows = {"wf-example": example["data"], **demo_workflows(5)}
    with FakeMalakaiServer(workflows, api_key=KEY, access_token=TOKEN) as fake:
        timeout = httpx.Timeout(connect=1.0, read=0.2, write=1.0, pool=1.0)
        with client_for(fake, timeout=timeout, retry=RetryPolicy(attempts=2)) as client:
            outputs += [repr(client), str(client), repr(client.__dict__)]
            result = client.fetch_logs(list(workflows))
            outputs += [repr(result), str(result.failures)]
            outputs.append(result.save(tmp_path / "a.json").read_text())
            outputs.append(result.save(tmp_path / "a.jsonl").read_text())
            # A server that echoes the secrets back must not get them into messages.
            fake.queue(Fault(403, {"message": f"bad token {TOKEN} for key {KEY}"}))
            fake.queue(Fault(200, f"<html>{KEY} {TOKEN}</html>", content_type="text/html"))
            fake.queue(Fault.failure_code(4001, f"token {TOKEN} expired"))
            fake.queue(Fault(404, {"message": f"no workflow for {KEY}"}))
            fake.queue(Fault(503), Fault(503), Fault.slow(0.5), Fault.slow(0.5),
                       Fault.truncated(), Fault.truncated())
            for _ in range(7):
                attempt(lambda: client.get_workflow_logs("wf-000"))
            attempt(lambda: client.fetch_logs(["wf-000", "missing"], raise_on_error=True))
        assert all(r.authorized for r in fake.requests)  # the secrets were really sent
        with MalakaiClient(KEY, "wrong", base_url=fake.url) as wrong:
            attempt(lambda: wrong.get_workflow_logs("wf-000"))
        monkeypatch.setenv("MALAKAI_API_KEY", KEY)
        monkeypatch.setenv("MALAKAI_ACCESS_TOKEN", TOKEN)
        code = cli.main(["-v", "fetch", "wf-000", "missing", "--base-url", fake.url,
                         "-o", str(tmp_path / "cli.jsonl")])
        outputs.append((tmp_path / "cli.jsonl").read_text())

    with FakeMalakaiServer() as gone:
        url = gone.url
    with MalakaiClient(KEY, TOKEN, base_url=url, sleep=Sleeps()) as client:
        attempt(lambda: client.get_workflow_logs("wf-000"))

    assert code == 1
    expected = {AuthenticationError, ResponseFormatError, WorkflowNotFoundError, ServerError,
                APITimeoutError, APIConnectionError, FetchError}
    assert {type(e) for e in errors} == expected
    for error in errors:
        outputs += [str(error), repr(error), repr(vars(error))]
        outputs.append("".join(traceback.format_exception(error)))
        if isinstance(error, FetchError):
            outputs += [str(e) for e in error.failures.values()]
    captured = capsys.readouterr()
    outputs += [captured.out, captured.err, caplog.text]
    outputs += [record.getMessage() for record in caplog.records]
    # Not vacuous: the logs hold httpcore's debug trace and the client's retries.
    names = {record.name for record in caplog.records}
    assert {"httpcore.http11", "httpx", "malakai_analytics.client"} <= names
    assert "***" in "\n".join(str(e) for e in errors)  # the echoed secrets were scrubbed
    for text in outputs:
        assert KEY not in text
        assert TOKEN not in text


# --- the fetch command ---------------------------------------------------------------

def run_cli(*args, env_extra=None, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALAKAI_")}
    env.update({"PYTHONPATH": str(ROOT), "MALAKAI_API_KEY": KEY, "MALAKAI_ACCESS_TOKEN": TOKEN})
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "malakai_analytics", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=60,
    )


def test_fetch_command_end_to_end(server, example, tmp_path):
    out = tmp_path / "logs.jsonl"
    ids = ["wf-example", "wf-000", "wf-001", "wf-002"]
    done = run_cli("fetch", *ids, "-o", str(out), "--base-url", server.url,
                   "--concurrency", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"fetched 4 of 4 workflow(s), 10 call log(s), into {out}\n"
    assert "fetching [" in done.stderr and "4/4 workflows" in done.stderr
    assert "Traceback" not in done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["workflow_id"] for r in records] == ids
    assert records[0]["response"] == example
    logs = load_logs(out)
    assert len(logs.calls) == 10
    assert_example_call(logs)


def test_fetch_command_errors_are_one_line_without_traceback(server, tmp_path):
    out = tmp_path / "logs.json"
    done = run_cli("fetch", "wf-000", "missing", "-o", str(out), "--base-url", server.url)
    assert done.returncode == 1
    assert done.stdout == f"fetched 1 of 2 workflow(s), 3 call log(s), into {out}\n"
    (line,) = done.stderr.splitlines()
    assert line.startswith("malakai-analytics: error: workflow missing: workflow 'missing'")
    assert len(load_logs(out).calls) == 3

    done = run_cli("fetch", "wf-000", env_extra={"MALAKAI_ACCESS_TOKEN": ""},
                   cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert "MALAKAI_ACCESS_TOKEN" in line and "MALAKAI_API_KEY" not in line.split(";")[0]
    assert not (tmp_path / "workflow_logs.json").exists()


def test_fetch_command_in_process_json_output(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MALAKAI_API_KEY", KEY)
    monkeypatch.setenv("MALAKAI_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("MALAKAI_BASE_URL", server.url)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["fetch", "wf-example", "--timeout", "5"]) == 0
    saved = json.loads((tmp_path / "workflow_logs.json").read_text())
    assert isinstance(saved, list) and saved[0]["workflow_id"] == "wf-example"
    captured = capsys.readouterr()
    assert captured.out.startswith("fetched 1 of 1 workflow(s), 1 call log(s)")
    assert captured.err == ""  # no progress bar for a few workflows
    server.always(Fault(500))
    assert cli.main(["fetch", "wf-000", "--base-url", server.url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HTTP 500" in err


def test_fetch_command_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["fetch", "wf-1", "--concurrency", "0"])
    assert caught.value.code == 2
    assert "at least 1" in capsys.readouterr().err
