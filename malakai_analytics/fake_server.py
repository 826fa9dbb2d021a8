"""A fake Malakai API on 127.0.0.1, for tests, notebooks and benchmarks.

A real HTTP/1.1 server (stdlib `http.server`, one thread per connection, keep-alive)
on an ephemeral loopback port, so the client is exercised over real sockets. It serves
the documented endpoint, `GET /workflows/logs/{workflow_id}` and its
`/api/api/workflows/logs/{workflow_id}` twin, from a dict of workflow -> logs or a logs
file; it checks both credential headers (401 when one is missing, 403 when wrong) and
answers 404 for an unknown workflow. Faults are injected per request, scripted in
order per workflow or for any workflow, or set to repeat:

    with FakeMalakaiServer({"wf-1": logs}) as server:
        server.queue(Fault.rate_limited(retry_after=1), Fault.html(502))
        client = MalakaiClient("fake-api-key", "fake-access-token", base_url=server.url)

The server is bounded: it stops by itself after `lifetime` seconds, idle keep-alive
connections close after `idle_timeout` seconds, and its threads are daemons. It records
each request (path, workflow, status, connection), never the credentials.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

DEFAULT_API_KEY = "fake-api-key"
DEFAULT_ACCESS_TOKEN = "fake-access-token"
SUCCESS_MESSAGE = "Workflow logs fetched successfully"

_ROUTE = re.compile(r"(?:/api/api)?/workflows/logs/([^/]+)/?")

_GATEWAY_HTML = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Fault:
    """How to answer one request instead of (or on top of) the normal answer.

    Attributes:
        status: HTTP status.
        body: the body; None gives the workflow's envelope for a 2xx status (with
            `response_code` and `message`) and a small JSON error otherwise. A dict or
            list is sent as JSON, a str as UTF-8.
        content_type: Content-Type; defaults to JSON for dict/list/None bodies, else
            text/plain.
        headers: extra headers (e.g. Retry-After).
        latency: seconds to wait before answering (added to the server's latency).
        response_code: the envelope's responseCode (default 2000); e.g. "2000", 4001.
        message: the envelope's message.
        truncate: announce the full Content-Length, send half the body, close.
        drop: close the connection without answering.
    """

    status: int = 200
    body: bytes | str | dict | list | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    latency: float = 0.0
    response_code: int | str | None = None
    message: str | None = None
    truncate: bool = False
    drop: bool = False

    @classmethod
    def rate_limited(cls, retry_after: str | float | None = None) -> Fault:
        """429 Too Many Requests, with a Retry-After header when given."""
        headers = {} if retry_after is None else {"Retry-After": _header_text(retry_after)}
        return cls(429, {"message": "Too Many Requests"}, headers=headers)

    @classmethod
    def html(cls, status: int = 502, retry_after: str | float | None = None) -> Fault:
        """A gateway's HTML error page (502 Bad Gateway by default)."""
        reason = HTTPStatus(status).phrase
        headers = {} if retry_after is None else {"Retry-After": _header_text(retry_after)}
        body = _GATEWAY_HTML.format(status=status, reason=reason)
        return cls(status, body, content_type="text/html", headers=headers)

    @classmethod
    def failure_code(
        cls, code: int | str = 4001, message: str = "Workflow not accessible"
    ) -> Fault:
        """HTTP 200 whose envelope carries a failure responseCode and message."""
        return cls(200, response_code=code, message=message)

    @classmethod
    def not_json(cls, status: int = 200) -> Fault:
        """A 2xx HTML page, as a wrong base URL (a website) gives."""
        body = "<!DOCTYPE html><html><head><title>Malakai</title></head><body>" + "x" * 300
        return cls(status, body, content_type="text/html; charset=utf-8")

    @classmethod
    def truncated(cls) -> Fault:
        """The normal answer cut in half, the connection closed."""
        return cls(truncate=True)

    @classmethod
    def dropped(cls) -> Fault:
        """The connection closed without an answer."""
        return cls(drop=True)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """The normal answer after `seconds`."""
        return cls(latency=seconds)


def _header_text(value: str | float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server answered (credentials are never recorded).

    Attributes:
        path: the request path.
        workflow_id: the workflow asked for (None for an unknown path).
        status: the status answered (None when the connection was dropped).
        authorized: whether both credential headers were right.
        connection: which client connection carried it (0, 1, ... in order opened).
        at: `time.monotonic()` when the request arrived.
    """

    path: str
    workflow_id: str | None
    status: int | None
    authorized: bool
    connection: int
    at: float


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "FakeMalakai/1.0"
    sys_version = ""
    fake: FakeMalakaiServer  # set on the per-server subclass
    connection_index: int = -1

    def setup(self) -> None:
        super().setup()
        self.connection_index = self.fake._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        self.fake._closed(self.connection)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.fake._handle(self)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("fake server: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = False

    def handle_error(self, request, client_address) -> None:
        logger.debug("fake server: connection error from %s", client_address, exc_info=True)


class FakeMalakaiServer:
    """A fake Malakai workflow-logs API on 127.0.0.1 (see the module docstring).

    Args:
        workflows: workflow id -> list of call logs; or a path to a logs file (an
            envelope, a list of envelopes, fetch records or logs, or JSON Lines of
            them), or a list of logs, grouped by their `workflow_id`.
        api_key: the key the server accepts.
        access_token: the token the server accepts.
        latency: seconds every answer waits.
        lifetime: seconds after which the server stops by itself.
        idle_timeout: seconds an idle keep-alive connection is kept.
    """

    def __init__(
        self,
        workflows: Mapping[str, list[dict]] | str | os.PathLike | list[dict] | None = None,
        *,
        api_key: str = DEFAULT_API_KEY,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        latency: float = 0.0,
        lifetime: float = 120.0,
        idle_timeout: float = 10.0,
    ) -> None:
        self._workflows = _read_workflows(workflows)
        self._api_key = api_key
        self._access_token = access_token
        self.latency = latency
        self.lifetime = lifetime
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._scripts: dict[str | None, deque[Fault]] = {}
        self._always: dict[str | None, Fault] = {}
        self._requests: list[RecordedRequest] = []
        self._sockets: set[socket.socket] = set()
        self._connections = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._stopped = False

    def __repr__(self) -> str:
        where = self.url if self._httpd else "not started"
        return f"FakeMalakaiServer({where}, workflows={len(self._workflows)})"

    # --- life cycle ----------------------------------------------------------------

    def start(self) -> FakeMalakaiServer:
        """Start serving on an ephemeral port of 127.0.0.1; returns self."""
        if self._httpd is not None:
            return self
        handler = type("FakeMalakaiHandler", (_Handler,), {"fake": self,
                                                           "timeout": self.idle_timeout})
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-malakai-server", daemon=True,
        )
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        logger.debug("fake server listening at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        with self._lock:
            if self._httpd is None or self._stopped:
                return
            self._stopped = True
            sockets = list(self._sockets)
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        logger.debug("fake server stopped after %d request(s)", len(self._requests))

    def __enter__(self) -> FakeMalakaiServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between `start()` and `stop()` (or the end of the lifetime)."""
        return self._httpd is not None and not self._stopped

    @property
    def url(self) -> str:
        """The base URL, `http://127.0.0.1:PORT` (the server must be started)."""
        if self._httpd is None:
            raise RuntimeError("the fake server is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # --- configuration -------------------------------------------------------------

    def add_workflow(self, workflow_id: str, logs: list[dict]) -> None:
        """Serve `logs` for `workflow_id` (replacing any)."""
        with self._lock:
            self._workflows[workflow_id] = list(logs)

    def queue(self, *faults: Fault, workflow_id: str | None = None) -> None:
        """Answer the next requests with `faults`, in order, then normally again.

        Args:
            faults: one per request.
            workflow_id: only requests for this workflow; None: any workflow (used
                when the workflow has no script of its own).
        """
        with self._lock:
            self._scripts.setdefault(workflow_id, deque()).extend(faults)

    def always(self, fault: Fault | None, workflow_id: str | None = None) -> None:
        """Answer every request (of `workflow_id`, or any) with `fault`; None clears."""
        with self._lock:
            if fault is None:
                self._always.pop(workflow_id, None)
            else:
                self._always[workflow_id] = fault

    # --- what happened -------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far, in order of arrival."""
        with self._lock:
            return list(self._requests)

    @property
    def connection_count(self) -> int:
        """Client connections opened so far."""
        with self._lock:
            return self._connections

    @property
    def max_in_flight(self) -> int:
        """The most requests handled at the same time."""
        with self._lock:
            return self._max_in_flight

    # --- serving -------------------------------------------------------------------

    def _opened(self, sock: socket.socket) -> int:
        with self._lock:
            self._sockets.add(sock)
            self._connections += 1
            return self._connections - 1

    def _closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def _next_fault(self, workflow_id: str) -> Fault | None:
        with self._lock:
            for key in (workflow_id, None):
                script = self._scripts.get(key)
                if script:
                    return script.popleft()
            return self._always.get(workflow_id, self._always.get(None))

    def _handle(self, handler: _Handler) -> None:
        arrived = time.monotonic()
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            self._answer(handler, arrived)
        except OSError:  # the client went away (e.g. it timed out)
            handler.close_connection = True
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, handler: _Handler, arrived: float) -> None:
        path = urlsplit(handler.path).path
        match = _ROUTE.fullmatch(path)
        workflow_id = unquote(match.group(1)) if match else None
        authorized = self._authorized(handler)

        def record(status: int | None) -> None:
            with self._lock:
                self._requests.append(RecordedRequest(
                    path, workflow_id, status, authorized, handler.connection_index, arrived))

        if workflow_id is None:
            record(404)
            return self._send(handler, 404, {"message": "Not Found"})
        if not authorized:
            missing = not (handler.headers.get("Authorization")
                           and handler.headers.get("x-access-token"))
            status = 401 if missing else 403
            record(status)
            message = "Unauthorized" if missing else "Forbidden"
            return self._send(handler, status, {"responseCode": status * 10 + 1,
                                                "message": message})
        fault = self._next_fault(workflow_id) or Fault()
        delay = self.latency + fault.latency
        if delay > 0:
            time.sleep(min(delay, self.lifetime))
        if fault.drop:
            record(None)
            handler.close_connection = True
            return
        with self._lock:
            logs = self._workflows.get(workflow_id)
        if fault.body is not None or not 200 <= fault.status < 300:
            body = fault.body
            if body is None:
                body = {"responseCode": fault.status * 10,
                        "message": HTTPStatus(fault.status).phrase}
            record(fault.status)
            return self._send(handler, fault.status, body, fault)
        if logs is None:
            record(404)
            return self._send(handler, 404, {"responseCode": 4004,
                                              "message": "Workflow not found"})
        envelope = {
            "responseCode": 2000 if fault.response_code is None else fault.response_code,
            "message": SUCCESS_MESSAGE if fault.message is None else fault.message,
            "data": logs,
        }
        record(fault.status)
        self._send(handler, fault.status, envelope, fault)

    def _authorized(self, handler: _Handler) -> bool:
        return (
            handler.headers.get("Authorization") == f"Bearer {self._api_key}"
            and handler.headers.get("x-access-token") == self._access_token
        )

    def _send(self, handler: _Handler, status: int, body: Any, fault: Fault | None = None) -> None:
        fault = fault or Fault()
        if isinstance(body, bytes):
            payload, content_type = body, "application/octet-stream"
        elif isinstance(body, str):
            payload, content_type = body.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            payload, content_type = json.dumps(body).encode("utf-8"), "application/json"
        handler.send_response(status)
        handler.send_header("Content-Type", fault.content_type or content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in fault.headers.items():
            handler.send_header(name, value)
        if fault.truncate:
            handler.send_header("Connection", "close")
        handler.end_headers()
        if fault.truncate:
            handler.wfile.write(payload[: len(payload) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.wfile.write(payload)


# --- data --------------------------------------------------------------------------

def _read_workflows(source: Any) -> dict[str, list[dict]]:
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return {str(k): list(v) for k, v in source.items()}
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            documents = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            documents = [json.loads(text)]
        logs = [log for document in documents for log in _logs_of(document)]
    else:
        logs = [log for document in source for log in _logs_of(document)]
    grouped: dict[str, list[dict]] = {}
    for log in logs:
        grouped.setdefault(str(log.get("workflow_id")), []).append(log)
    return grouped


def _logs_of(document: Any) -> Iterable[dict]:
    if isinstance(document, list):
        for item in document:
            yield from _logs_of(item)
    elif isinstance(document, dict):
        if isinstance(document.get("response"), dict):  # a fetch record
            yield from _logs_of(document["response"])
        elif "data" in document:  # an envelope
            yield from document.get("data") or []
        else:
            yield document


_SENTIMENTS = ("positive", "neutral", "negative", "neutral")
_GOALS = ("yes", "no", "yes")
_LINES = (
    ("assistant", "Hello, this is Sam from Demo Homes. How can I help you today?"),
    ("user", "I am looking for a two bedroom flat near the station."),
    ("assistant", "Happy to help. What budget do you have in mind?"),
    ("user", "Around two thousand a month."),
)


def demo_log(workflow_id: str, index: int) -> dict:
    """One synthetic call log in the documented shape, a function of its arguments only.

    Args:
        workflow_id: the workflow it belongs to.
        index: its position in the workflow (0-based).
    """
    seed = zlib.crc32(workflow_id.encode("utf-8")) + index
    created = datetime(2025, 7, 1, 9, 0, tzinfo=timezone.utc) + timedelta(
        hours=5 * index, minutes=seed % 60, seconds=seed % 7)
    duration = 60 + 30 * (seed % 7)
    updated = created + timedelta(seconds=duration + 45)
    n_lines = 2 + seed % 3
    conversation = [{"role": "user", "content": "---"}] + [
        {"role": role, "content": content} for role, content in _LINES[:n_lines]]
    call_id = f"{workflow_id}-call-{index:02d}"
    stamp = "%Y-%m-%dT%H:%M:%S.000Z"
    return {
        "id": call_id,
        "tester_name": "Demo Tester",
        "tester_phone": "+10000000000",
        "tester_email": "",
        "agent_id": f"agent-{seed % 3}",
        "workflow_id": workflow_id,
        "test_result": {
            "name": "Demo Persona",
            "email": "",
            "status": "completed",
            "address": "1 Demo Street",
            "call_sid": f"CA{seed:032x}"[:34],
            "sentiment": _SENTIMENTS[seed % len(_SENTIMENTS)],
            "contact_id": "",
            "session_id": f"session-{call_id}",
            "call_summary": "A synthetic test call about renting a flat.",
            "conversation": json.dumps(conversation),
            "call_duration": f"{duration} seconds",
            "goal_achieved": _GOALS[seed % len(_GOALS)],
            "recording_url": f"https://recordings.invalid/{call_id}.mp3",
        },
        "status": "completed",
        "session_id": f"session-{call_id}",
        "created_at": created.strftime(stamp),
        "updated_at": updated.strftime(stamp),
    }


def demo_workflows(
    workflow_ids: Iterable[str] | int, calls_per_workflow: int = 3
) -> dict[str, list[dict]]:
    """Deterministic synthetic logs for a fake server: workflow id -> logs.

    Args:
        workflow_ids: the workflow ids, or a number n for `wf-000` ... `wf-(n-1)`.
        calls_per_workflow: logs per workflow.
    """
    if isinstance(workflow_ids, int):
        workflow_ids = [f"wf-{i:03d}" for i in range(workflow_ids)]
    return {w: [demo_log(w, i) for i in range(calls_per_workflow)] for w in workflow_ids}
