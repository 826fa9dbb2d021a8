"""httpx client for the Malakai workflow-logs API: sync and async, retries, clear errors.

`MalakaiClient` (sync) and `AsyncMalakaiClient` (asyncio) speak the one documented
endpoint, `GET {base_url}/workflows/logs/{workflow_id}`, with the two required headers.
Each client owns one httpx connection pool, reused by every request it makes, with
explicit connect/read/write/pool timeouts.

The GET is idempotent, so it is retried on 429, 502, 503, 504, timeouts and broken
connections: a `Retry-After` header (seconds or an HTTP date) is honoured up to a cap,
otherwise the wait is a capped exponential backoff with jitter, and the number of
attempts is bounded (`RetryPolicy`). Every failure ends in an exception of the package's
hierarchy (`malakai_analytics.errors`) whose message says what to do.

`fetch_logs` fetches many workflows with a bounded number in flight; one failing
workflow does not lose the others: the `FetchResult` keeps what succeeded (as tidy
tables and as the raw fetch records) and maps each failed workflow to its error.

The API key and the access token never appear in a repr, an exception, a log line or a
file: they are held by an object whose repr hides them, added to each request by an
httpx auth hook, and scrubbed from any response text quoted in an error.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from . import __version__
from .errors import (
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
from .loader import CallLogs, load_logs

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.getmalakai.com"
API_KEY_ENV = "MALAKAI_API_KEY"
ACCESS_TOKEN_ENV = "MALAKAI_ACCESS_TOKEN"
BASE_URL_ENV = "MALAKAI_BASE_URL"

#: Path of the endpoint, relative to the base URL.
LOGS_PATH = "workflows/logs/{workflow_id}"
SUCCESS_CODES = (2000, "2000")
#: HTTP statuses worth asking again for.
RETRY_STATUSES = frozenset({429, 502, 503, 504})

#: httpx's default is 5 s for everything, too short for a large slow answer: the read
#: timeout (between two chunks of the answer) is long, the others short.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=10.0, pool=30.0)
DEFAULT_CONCURRENCY = 10
DEFAULT_MAX_CONNECTIONS = 10

#: Characters of a response body quoted in an error.
EXCERPT_CHARS = 200

ProgressCallback = Callable[[int, int], None]
"""Called as `progress(done, total)` each time a workflow is finished (either way)."""


# --- configuration -------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    """How the idempotent GET is retried.

    Attributes:
        attempts: total attempts per workflow, the first included (>= 1).
        backoff: wait before the first retry when there is no Retry-After, in seconds;
            doubled at each further retry.
        max_backoff: cap of the exponential backoff, in seconds.
        max_retry_after: cap of a server's Retry-After, in seconds.
        jitter: fraction of each backoff wait that is random (0 <= jitter <= 1):
            the wait is uniform in [delay * (1 - jitter), delay].
        statuses: HTTP statuses that are retried.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    jitter: float = 0.5
    statuses: frozenset[int] = RETRY_STATUSES

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("RetryPolicy.jitter must be between 0 and 1")
        if min(self.backoff, self.max_backoff, self.max_retry_after) < 0:
            raise ValueError("RetryPolicy waits must not be negative")

    def backoff_delay(self, retry: int, rand: float) -> float:
        """The wait before retry number `retry` (1-based) when no Retry-After is given.

        Args:
            retry: 1 for the first retry, 2 for the second, ...
            rand: a random number in [0, 1).
        """
        delay = min(self.max_backoff, self.backoff * 2.0 ** (retry - 1))
        return delay * (1.0 - self.jitter * rand)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a `Retry-After` header, or None when unusable.

    Args:
        value: the header, either delay-seconds (`"120"`) or an HTTP date
            (`"Wed, 21 Oct 2015 07:28:00 GMT"`).
        now: the current time (UTC), for dates; defaults to the clock.

    Returns:
        A non-negative number of seconds (a date in the past gives 0.0), or None when
        the header is missing or unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class _Credentials:
    """The API key and access token, kept out of every repr, message and log."""

    __slots__ = ("_api_key", "_access_token")

    def __init__(self, api_key: str, access_token: str) -> None:
        self._api_key = api_key
        self._access_token = access_token

    def __repr__(self) -> str:
        return "<credentials hidden>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("Malakai credentials cannot be pickled")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}", "x-access-token": self._access_token}

    def redact(self, text: str) -> str:
        """`text` with any occurrence of the key or the token replaced by `***`."""
        for secret in (self._api_key, self._access_token):
            text = text.replace(secret, "***")
        return text


def _resolve_credentials(api_key: str | None, access_token: str | None) -> _Credentials:
    values = {}
    missing = []
    for name, given, env in (
        ("api_key", api_key, API_KEY_ENV),
        ("access_token", access_token, ACCESS_TOKEN_ENV),
    ):
        value = given if given is not None else os.environ.get(env)
        value = (value or "").strip()
        if not value:
            missing.append((name, env))
            continue
        if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
            raise MissingCredentialsError(
                f"the Malakai {name.replace('_', ' ')} (from {name}= or ${env}) holds spaces "
                "or characters other than printable ASCII, so it cannot be sent; "
                "copy it again from your Malakai account"
            )
        values[name] = value
    if missing:
        what = " and ".join(name.replace("_", " ").replace("api", "API") for name, _ in missing)
        names = " and ".join(env for _, env in missing)
        args = " / ".join(f"{name}=" for name, _ in missing)
        plural = "s" if len(missing) > 1 else ""
        raise MissingCredentialsError(
            f"no Malakai {what}: set the environment variable{plural} {names} "
            f"(or pass {args} to the client); both the API key and the access token "
            "are required"
        )
    return _Credentials(values["api_key"], values["access_token"])


def _resolve_base_url(base_url: str | None) -> str:
    value = base_url if base_url is not None else os.environ.get(BASE_URL_ENV)
    value = (value or "").strip() or DEFAULT_BASE_URL
    url = httpx.URL(value)
    if url.scheme not in ("http", "https") or not url.host:
        raise MalakaiError(
            f"the base URL {value!r} is not an http(s) URL; pass e.g. {DEFAULT_BASE_URL} "
            f"(--base-url or ${BASE_URL_ENV})"
        )
    if url.userinfo:
        raise MalakaiError(
            "the base URL must not carry a user name or password; pass credentials through "
            f"${API_KEY_ENV} and ${ACCESS_TOKEN_ENV}"
        )
    return value.rstrip("/")


def _resolve_timeout(timeout: httpx.Timeout | float | None) -> httpx.Timeout:
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(float(timeout))


class _MalakaiAuth(httpx.Auth):
    """Adds the two credential headers to each request (sync and async)."""

    def __init__(self, credentials: _Credentials) -> None:
        self._credentials = credentials

    def __repr__(self) -> str:
        return "<Malakai auth: credentials hidden>"

    def auth_flow(self, request: httpx.Request):
        request.headers.update(self._credentials.headers())
        yield request


def _check_workflow_id(workflow_id: Any) -> str:
    if not isinstance(workflow_id, str) or not workflow_id.strip():
        raise ValueError(f"a workflow id must be a non-empty string, not {workflow_id!r}")
    return workflow_id.strip()


def _unique_ids(workflow_ids: Iterable[str] | str) -> list[str]:
    if isinstance(workflow_ids, str):
        workflow_ids = [workflow_ids]
    ids = [_check_workflow_id(w) for w in workflow_ids]
    unique = list(dict.fromkeys(ids))
    if len(unique) < len(ids):
        logger.info("fetching %d distinct workflows (%d duplicates ignored)",
                    len(unique), len(ids) - len(unique))
    return unique


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- results -------------------------------------------------------------------------

@dataclass(frozen=True, eq=False, repr=False)
class FetchResult(CallLogs):
    """The tables of the workflows fetched, plus what failed.

    A `CallLogs` (calls, turns, problems, filter) built with `load_logs` from the
    fetched envelopes, with two more attributes.

    Attributes:
        records: one fetch record per workflow that succeeded, in the order asked:
            `{"workflow_id": ..., "fetched_at": ISO 8601 UTC, "response": envelope}`
            with the envelope exactly as received; `save()` writes them.
        failures: workflow id -> the `MalakaiError` it ended with.
    """

    records: tuple[dict, ...] = ()
    failures: Mapping[str, MalakaiError] = field(default_factory=dict)

    @property
    def workflow_ids(self) -> list[str]:
        """The workflows fetched successfully, in the order asked."""
        return [record["workflow_id"] for record in self.records]

    @property
    def ok(self) -> bool:
        """True when no workflow failed."""
        return not self.failures

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fetch records to `path` (see `save_fetch_records`)."""
        return save_fetch_records(self.records, path)

    def __repr__(self) -> str:
        return (
            f"FetchResult(workflows={len(self.records)}, failures={len(self.failures)}, "
            f"calls={len(self.calls)}, turns={len(self.turns)}, problems={len(self.problems)})"
        )


def save_fetch_records(records: Iterable[dict], path: str | os.PathLike) -> Path:
    """Save fetch records where `load_logs` (and the report command) can read them.

    Args:
        records: fetch records, as in `FetchResult.records`.
        path: a `.jsonl`/`.ndjson` file gets one record per line; any other name gets
            a JSON list of records. Parent folders are created; an existing file is
            replaced only once the new one is completely written.

    Returns:
        The path written.

    Raises:
        MalakaiError: the file cannot be written.
    """
    path = Path(path)
    records = list(records)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    else:
        text = json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        raise MalakaiError(
            f"cannot write {path}: {error.strerror or error}; choose another file or folder"
        ) from None
    logger.info("saved %d fetch record(s) to %s", len(records), path)
    return path


# --- the shared core: requests, answers, retries -------------------------------------

class _Core:
    """What the sync and async clients share: configuration and answer handling."""

    def __init__(
        self,
        api_key: str | None,
        access_token: str | None,
        base_url: str | None,
        timeout: httpx.Timeout | float | None,
        retry: RetryPolicy | None,
        max_connections: int,
        rand: Callable[[], float],
    ) -> None:
        self.credentials = _resolve_credentials(api_key, access_token)
        self.base_url = _resolve_base_url(base_url)
        self.timeout = _resolve_timeout(timeout)
        self.retry = retry or RetryPolicy()
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self.rand = rand

    def client_options(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url + "/",
            "auth": _MalakaiAuth(self.credentials),
            "timeout": self.timeout,
            "limits": httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=self.max_connections,
            ),
            "headers": {
                "Accept": "application/json",
                "User-Agent": f"malakai-analytics/{__version__}",
            },
            "follow_redirects": False,
        }

    def path(self, workflow_id: str) -> str:
        return LOGS_PATH.format(workflow_id=quote(workflow_id, safe=""))

    def concurrency(self, requested: int) -> int:
        if requested < 1:
            raise ValueError("concurrency must be at least 1")
        if requested > self.max_connections:
            logger.info(
                "concurrency %d capped at the pool's %d connections (max_connections=)",
                requested, self.max_connections,
            )
        return min(requested, self.max_connections)

    def repr(self, name: str) -> str:
        return f"{name}(base_url={self.base_url!r}, api_key=<hidden>, access_token=<hidden>)"

    # Each attempt ends in one of three ways: a record (done), a wait (retry), or an
    # exception (final). `outcome` decides which.

    def outcome(
        self,
        workflow_id: str,
        attempt: int,
        response: httpx.Response | None = None,
        error: httpx.TransportError | None = None,
    ) -> tuple[dict | None, float]:
        """Return (record, 0.0) when done, (None, seconds) to retry; raise when final."""
        last = attempt >= self.retry.attempts
        if error is not None:
            if last or not _is_retryable(error):
                raise self._transport_failure(workflow_id, attempt, error)
            delay = self.retry.backoff_delay(attempt, self.rand())
            self._log_retry(workflow_id, attempt, type(error).__name__, delay)
            return None, delay
        assert response is not None
        status = response.status_code
        if status in self.retry.statuses and not last:
            delay = parse_retry_after(response.headers.get("Retry-After"))
            if delay is None:
                delay = self.retry.backoff_delay(attempt, self.rand())
            else:
                delay = min(delay, self.retry.max_retry_after)
            self._log_retry(workflow_id, attempt, f"HTTP {status}", delay)
            return None, delay
        envelope = self.envelope(workflow_id, response, attempt)
        record = {"workflow_id": workflow_id, "fetched_at": _now_iso(), "response": envelope}
        return record, 0.0

    def _log_retry(self, workflow_id: str, attempt: int, reason: str, delay: float) -> None:
        logger.info(
            "workflow %s: %s on attempt %d of %d; retrying in %.2f s",
            workflow_id, reason, attempt, self.retry.attempts, delay,
        )

    def envelope(self, workflow_id: str, response: httpx.Response, attempt: int) -> dict:
        """The documented envelope of a final answer, or the error it stands for."""
        status = response.status_code
        where = {"workflow_id": workflow_id, "status_code": status, "url": str(response.url)}
        tries = f" after {attempt} attempt{'s' if attempt > 1 else ''}"
        said = self._server_says(response)
        if status in (401, 403):
            raise AuthenticationError(
                f"the Malakai API refused the credentials (HTTP {status}{said}); check that "
                f"${API_KEY_ENV} and ${ACCESS_TOKEN_ENV} hold a current API key and access "
                "token of an account that can see this workflow",
                **where,
            )
        if status == 404:
            raise WorkflowNotFoundError(
                f"workflow {workflow_id!r} was not found (HTTP 404{said}); check the workflow "
                f"id, and that the base URL (--base-url or ${BASE_URL_ENV}) is the API's",
                **where,
            )
        if status == 429:
            raise RateLimitedError(
                f"the Malakai API rate-limited workflow {workflow_id!r} (HTTP 429){tries}; "
                "wait a minute and try again, or fetch fewer workflows at once (--concurrency)",
                **where,
            )
        if status >= 500:
            raise ServerError(
                f"the Malakai API answered HTTP {status} {response.reason_phrase} for "
                f"workflow {workflow_id!r}{tries}{said}; the service is having trouble: "
                "try again later, and tell Malakai support if it persists",
                **where,
            )
        if not 200 <= status < 300:
            raise APIError(
                f"the Malakai API answered HTTP {status} {response.reason_phrase} for "
                f"workflow {workflow_id!r}{said}; this status is not documented: check the "
                f"base URL (--base-url or ${BASE_URL_ENV}) and the workflow id",
                **where,
            )
        content_type = response.headers.get("content-type", "none")
        try:
            document = json.loads(response.content)
        except ValueError:
            raise ResponseFormatError(
                f"the Malakai API answered HTTP {status} for workflow {workflow_id!r} with "
                f"content type {content_type!r} that is not JSON: {self._excerpt(response)!r}; "
                f"check that the base URL (--base-url or ${BASE_URL_ENV}) is the API's, "
                "then try again",
                **where,
            ) from None
        if not (isinstance(document, dict) and "responseCode" in document):
            kind = type(document).__name__
            keys = f" with keys {sorted(document)[:8]}" if isinstance(document, dict) else ""
            raise ResponseFormatError(
                f"the Malakai API answered HTTP {status} for workflow {workflow_id!r} with a "
                f"JSON {kind}{keys}, not the documented envelope "
                "{responseCode, message, data}; check the base URL "
                f"(--base-url or ${BASE_URL_ENV})",
                **where,
            )
        code = document.get("responseCode")
        if code not in SUCCESS_CODES:
            message = self.credentials.redact(str(document.get("message")))[:EXCERPT_CHARS]
            raise ResponseFormatError(
                f"the Malakai API answered responseCode {code!r} for workflow "
                f"{workflow_id!r} (HTTP {status}): {message!r}; check the workflow id and "
                "your account's access to it, and tell Malakai support if it persists",
                **where,
            )
        data = document.get("data")
        if data is not None and not isinstance(data, list):
            raise ResponseFormatError(
                f"the Malakai API answered for workflow {workflow_id!r} with 'data' as a "
                f"JSON {type(data).__name__}, not the documented list of call logs; "
                "tell Malakai support",
                **where,
            )
        logger.debug("workflow %s: %d call log(s)", workflow_id, len(data or ()))
        return document

    def _excerpt(self, response: httpx.Response) -> str:
        try:
            text = response.text
        except Exception:  # an unknown charset: fall back to bytes
            text = response.content.decode("utf-8", errors="replace")
        return self.credentials.redact(text[:EXCERPT_CHARS])

    def _server_says(self, response: httpx.Response) -> str:
        """`: 'message'` from a JSON error body, or `""`."""
        try:
            document = json.loads(response.content)
        except ValueError:
            return ""
        if isinstance(document, dict) and isinstance(document.get("message"), str):
            return f": {self.credentials.redact(document['message'])[:EXCERPT_CHARS]!r}"
        return ""

    def _transport_failure(
        self, workflow_id: str, attempt: int, error: httpx.TransportError
    ) -> APIError:
        detail = self.credentials.redact(f"{type(error).__name__}: {error}".rstrip(": "))
        tries = f" after {attempt} attempt{'s' if attempt > 1 else ''}"
        where = {"workflow_id": workflow_id, "url": self.base_url + "/" + self.path(workflow_id)}
        if isinstance(error, httpx.TimeoutException):
            t = self.timeout
            return APITimeoutError(
                f"no answer from the Malakai API at {self.base_url} for workflow "
                f"{workflow_id!r} within the timeouts (connect {t.connect} s, read {t.read} s, "
                f"pool {t.pool} s; {detail}){tries}; check your network, or allow more time "
                "(timeout=httpx.Timeout(...) or --timeout)",
                **where,
            )
        if isinstance(error, httpx.UnsupportedProtocol):
            return APIConnectionError(
                f"cannot use the base URL {self.base_url} ({detail}); pass an http(s) URL "
                f"(--base-url or ${BASE_URL_ENV})",
                **where,
            )
        if isinstance(error, httpx.ConnectError):
            return APIConnectionError(
                f"could not connect to the Malakai API at {self.base_url} for workflow "
                f"{workflow_id!r} ({detail}){tries}; check your network and the base URL "
                f"(--base-url or ${BASE_URL_ENV})",
                **where,
            )
        return APIConnectionError(
            f"the connection to the Malakai API at {self.base_url} broke before the answer "
            f"for workflow {workflow_id!r} was complete ({detail}){tries}; "
            "check your network and try again",
            **where,
        )

    def result(
        self, ids: list[str], outcomes: dict[str, dict | MalakaiError], raise_on_error: bool
    ) -> FetchResult:
        records = tuple(outcomes[w] for w in ids if isinstance(outcomes[w], dict))
        failures = {w: outcomes[w] for w in ids if isinstance(outcomes[w], MalakaiError)}
        logs = load_logs(list(records))
        result = FetchResult(
            logs.calls, logs.turns, logs.problems, records=records, failures=failures
        )
        logger.info("fetched %d of %d workflow(s): %r", len(records), len(ids), result)
        for workflow_id, error in failures.items():
            logger.info("workflow %s failed: %s", workflow_id, error)
        if failures and raise_on_error:
            shown = "; ".join(f"{w}: {e}" for w, e in list(failures.items())[:3])
            more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
            raise FetchError(
                f"{len(failures)} of {len(ids)} workflow(s) failed: {shown}{more}",
                failures=failures,
                result=result,
            )
        return result


def _is_retryable(error: httpx.TransportError) -> bool:
    return isinstance(
        error, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
    )


# --- the clients ---------------------------------------------------------------------

class _ClientSettings:
    """What the sync and async clients show of their settings (never the secrets)."""

    _core: _Core

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._core.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeouts of every request."""
        return self._core.timeout

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy."""
        return self._core.retry

    def __repr__(self) -> str:
        return self._core.repr(type(self).__name__)


class MalakaiClient(_ClientSettings):
    """Synchronous client of the Malakai workflow-logs API, with one connection pool.

    Use it as a context manager (or call `close()`):

        with MalakaiClient() as client:
            result = client.fetch_logs(["workflow-a", "workflow-b"])

    Args:
        api_key: the API key; defaults to `$MALAKAI_API_KEY`.
        access_token: the access token; defaults to `$MALAKAI_ACCESS_TOKEN`.
        base_url: the API root (the endpoint is `{base_url}/workflows/logs/{id}`);
            defaults to `$MALAKAI_BASE_URL`, else https://api.getmalakai.com. The
            reference's second root, `https://api.getmalakai.com/api/api`, works too.
        timeout: an `httpx.Timeout` (or seconds for all four); defaults to
            `DEFAULT_TIMEOUT` (connect 10 s, read 60 s, write 10 s, pool 30 s).
        retry: the `RetryPolicy`; defaults to 4 attempts.
        max_connections: size of the connection pool; `fetch_logs` never has more
            requests in flight than this, so it never waits for the pool.
        transport: an httpx transport to use instead of the network (tests).
        sleep: the function that waits between attempts (tests).
        rand: the source of jitter, returning floats in [0, 1) (tests).

    Raises:
        MissingCredentialsError: no key or no token, in arguments or environment.
        MalakaiError: the base URL is not an http(s) URL.
    """

    def __init__(
        self,
        api_key: str | None = None,
        access_token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._core = _Core(api_key, access_token, base_url, timeout, retry, max_connections, rand)
        self._sleep = sleep
        self._http = httpx.Client(transport=transport, **self._core.client_options())

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> MalakaiClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def fetch_record(self, workflow_id: str) -> dict:
        """Fetch one workflow, retrying as the policy says.

        Args:
            workflow_id: the workflow whose logs are wanted.

        Returns:
            The fetch record `{"workflow_id", "fetched_at", "response"}`, the envelope
            exactly as received.

        Raises:
            AuthenticationError, WorkflowNotFoundError, RateLimitedError, ServerError,
            ResponseFormatError, APIConnectionError, APITimeoutError (all APIError).
        """
        workflow_id = _check_workflow_id(workflow_id)
        path = self._core.path(workflow_id)
        for attempt in range(1, self._core.retry.attempts + 1):
            response = error = None
            try:
                response = self._http.get(path)
            except httpx.TransportError as caught:
                error = caught
            # Decided outside the except block, so that no error raised here chains
            # the httpx exception (and its request, headers included).
            record, delay = self._core.outcome(workflow_id, attempt, response, error)
            if record is not None:
                return record
            self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def get_workflow_logs(self, workflow_id: str) -> list[dict]:
        """The raw call logs of one workflow (the envelope's `data`; `[]` when none).

        Raises:
            APIError: as `fetch_record`.
        """
        return list(self.fetch_record(workflow_id)["response"].get("data") or [])

    def fetch_logs(
        self,
        workflow_ids: Iterable[str] | str,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        raise_on_error: bool = False,
        progress: ProgressCallback | None = None,
    ) -> FetchResult:
        """Fetch many workflows, at most `concurrency` at a time (in threads).

        Args:
            workflow_ids: the workflows (duplicates are fetched once).
            concurrency: requests in flight at most (capped at `max_connections`).
            raise_on_error: raise `FetchError` if any workflow failed, instead of
                reporting it in `failures`.
            progress: called as `progress(done, total)` after each workflow.

        Returns:
            A FetchResult: `calls`, `turns`, `problems` (as `load_logs`) of the
            workflows that succeeded, their `records`, and the `failures`.

        Raises:
            FetchError: some workflow failed and `raise_on_error` is true (its
                `result` holds what succeeded).
        """
        ids = _unique_ids(workflow_ids)
        limit = self._core.concurrency(concurrency)
        outcomes: dict[str, dict | MalakaiError] = {}
        pool = ThreadPoolExecutor(max_workers=max(1, min(limit, len(ids))),
                                  thread_name_prefix="malakai-fetch")
        try:
            futures = {pool.submit(self._outcome, w): w for w in ids}
            for done, future in enumerate(as_completed(futures), start=1):
                outcomes[futures[future]] = future.result()
                if progress is not None:
                    progress(done, len(ids))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return self._core.result(ids, outcomes, raise_on_error)

    def _outcome(self, workflow_id: str) -> dict | MalakaiError:
        try:
            return self.fetch_record(workflow_id)
        except MalakaiError as error:
            return error


class AsyncMalakaiClient(_ClientSettings):
    """Asynchronous (asyncio) client of the Malakai workflow-logs API, one pool.

        async with AsyncMalakaiClient() as client:
            result = await client.fetch_logs(workflow_ids, concurrency=10)

    Arguments as `MalakaiClient`, except that `transport` is an
    `httpx.AsyncBaseTransport` and `sleep` a coroutine function (`asyncio.sleep`).
    """

    def __init__(
        self,
        api_key: str | None = None,
        access_token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._core = _Core(api_key, access_token, base_url, timeout, retry, max_connections, rand)
        self._sleep = sleep
        self._http = httpx.AsyncClient(transport=transport, **self._core.client_options())

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncMalakaiClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def fetch_record(self, workflow_id: str) -> dict:
        """Fetch one workflow, retrying as the policy says (see `MalakaiClient`)."""
        workflow_id = _check_workflow_id(workflow_id)
        path = self._core.path(workflow_id)
        for attempt in range(1, self._core.retry.attempts + 1):
            response = error = None
            try:
                response = await self._http.get(path)
            except httpx.TransportError as caught:
                error = caught
            # Decided outside the except block, so that no error raised here chains
            # the httpx exception (and its request, headers included).
            record, delay = self._core.outcome(workflow_id, attempt, response, error)
            if record is not None:
                return record
            await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def get_workflow_logs(self, workflow_id: str) -> list[dict]:
        """The raw call logs of one workflow (see `MalakaiClient.get_workflow_logs`)."""
        record = await self.fetch_record(workflow_id)
        return list(record["response"].get("data") or [])

    async def fetch_logs(
        self,
        workflow_ids: Iterable[str] | str,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        raise_on_error: bool = False,
        progress: ProgressCallback | None = None,
    ) -> FetchResult:
        """Fetch many workflows, at most `concurrency` in flight (an asyncio semaphore).

        Arguments, result and errors as `MalakaiClient.fetch_logs`.
        """
        ids = _unique_ids(workflow_ids)
        semaphore = asyncio.Semaphore(self._core.concurrency(concurrency))
        outcomes: dict[str, dict | MalakaiError] = {}

        async def one(workflow_id: str) -> None:
            async with semaphore:
                try:
                    outcomes[workflow_id] = await self.fetch_record(workflow_id)
                except MalakaiError as error:
                    outcomes[workflow_id] = error
            if progress is not None:
                progress(len(outcomes), len(ids))

        await asyncio.gather(*(one(w) for w in ids))
        return self._core.result(ids, outcomes, raise_on_error)


def fetch_for_report(
    workflow_ids: Iterable[str] | str,
    base_url: str | None = None,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressCallback | None = None,
) -> CallLogs:
    """Fetch workflows for the report command (`report --workflow-id`).

    Credentials come from `$MALAKAI_API_KEY` and `$MALAKAI_ACCESS_TOKEN`. A report
    over only some of the workflows asked for would mislead, so any failure raises.

    Args:
        workflow_ids: the workflows to report on.
        base_url: the API root; defaults to `$MALAKAI_BASE_URL`, else the public API.
        concurrency: requests in flight at most.
        progress: called as `progress(done, total)` after each workflow.

    Returns:
        The CallLogs (a FetchResult) of every workflow.

    Raises:
        MissingCredentialsError: the environment variables are not set.
        FetchError: some workflow failed; the message names each and what to do.
    """
    with MalakaiClient(base_url=base_url) as client:
        return client.fetch_logs(
            workflow_ids, concurrency=concurrency, raise_on_error=True, progress=progress
        )
