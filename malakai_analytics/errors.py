"""The package's exception hierarchy.

Every error the package raises on purpose derives from `MalakaiError`, so callers can
catch one class. Messages say what went wrong and what to do; they never carry the API
key or the access token.
"""

from __future__ import annotations


class MalakaiError(Exception):
    """Base class of every error raised by malakai_analytics."""


class SourceError(MalakaiError, ValueError):
    """A source as a whole cannot be read: missing file, not JSON, wrong shape."""


# --- the Malakai API ---------------------------------------------------------------

class MissingCredentialsError(MalakaiError):
    """No API key or no access token was given, in arguments or in the environment."""


class APIError(MalakaiError):
    """A request to the Malakai API failed.

    Attributes:
        workflow_id: the workflow whose logs were asked for (None if not known).
        status_code: the HTTP status of the last answer (None if there was none).
        url: the URL asked for (never carries credentials).
    """

    def __init__(
        self,
        message: str,
        *,
        workflow_id: str | None = None,
        status_code: int | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.status_code = status_code
        self.url = url


class AuthenticationError(APIError):
    """The API refused the credentials (HTTP 401 or 403)."""


class WorkflowNotFoundError(APIError):
    """The API does not know the workflow (HTTP 404)."""


class RateLimitedError(APIError):
    """The API kept answering 429 Too Many Requests until the retries ran out."""


class ServerError(APIError):
    """The API answered with a 5xx server error (after retries, where retried)."""


class ResponseFormatError(APIError):
    """The answer is not the documented envelope, or carries a failure responseCode."""


class APIConnectionError(APIError):
    """The API could not be reached, or the connection broke, until retries ran out."""


class APITimeoutError(APIConnectionError):
    """The API did not answer within the configured timeouts, until retries ran out."""


class FetchError(MalakaiError):
    """Fetching several workflows failed for some of them (raised when asked to).

    Attributes:
        failures: workflow id -> the error that workflow ended with.
        result: the partial result, with the workflows that succeeded.
    """

    def __init__(self, message: str, *, failures: dict, result=None) -> None:
        super().__init__(message)
        self.failures = failures
        self.result = result
