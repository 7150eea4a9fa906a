"""What the live pulls share: connection files, bearer tokens, and HTTP GETs that retry politely.

A live pull is ingested like a file: its ``path`` is a small TOML *connection file* (read with
:class:`ConnectionFile`) naming the tenant, the date range and where the credentials are; the
credentials themselves never sit in it. Requests go through :class:`HttpClient`, which adds a
bearer token from a :class:`TokenProvider`, retries 429 and 503 answers (honouring
``Retry-After`` as seconds or an HTTP date, else backing off exponentially up to a cap, for a
bounded number of attempts) and turns every other failure into an error that names the
connection file and what was being fetched — never a URL, since URLs carry mailbox addresses.

Errors: what the admin must fix in the connection or the tenant (a missing field, a refused
token, HTTP 401/403) is a ``ConfigError``; what the service sent or failed to send (retries
exhausted, unreachable host, a body that is not the documented JSON) is an
``InputFormatError`` on the connection file — either way nothing of the pull is stored.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import httpx

from teamlens.errors import ConfigError, InputFormatError

_SNIFF_BYTES = 64 * 1024
_CHUNK_BYTES = 1024 * 1024
#: The largest JSON page read from a service (after any Content-Encoding is undone): Graph and
#: the Reports API page at a few megabytes, so anything beyond is refused, never held.
MAX_PAGE_BYTES = 32 * 1024 * 1024


class TokenProvider(Protocol):
    """Give :class:`HttpClient` a bearer token; implementations cache and refresh it themselves."""

    def token(self) -> str:
        """A currently valid access token (raise ``ConfigError`` when it cannot be had)."""
        ...


@dataclass(frozen=True)
class StaticTokenProvider:
    """A fixed token: for tests, and for admins who obtained a token some other way."""

    value: str

    def token(self) -> str:
        """The fixed token."""
        return self.value


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` per request, waits from ``first_wait`` doubling up to ``max_wait``."""

    attempts: int = 6
    first_wait: float = 1.0
    max_wait: float = 120.0
    statuses: frozenset[int] = frozenset({429, 503})

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based) when the server gave no hint."""
        return float(min(self.max_wait, self.first_wait * 2 ** (attempt - 1)))


def retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delay-seconds or HTTP-date), None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


class _NoRequestLines(logging.Filter):
    """Drop httpx's "HTTP Request: GET <url>" lines: Graph URLs carry mailbox addresses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request:")


def _quiet_httpx() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, _NoRequestLines) for existing in logger.filters):
        logger.addFilter(_NoRequestLines())


def send_once(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> tuple[int, dict[str, str], bytes]:
    """One request without retries (status, headers, body), for libraries that retry on their own.

    Raises ``OSError`` naming only the failure's class when the host cannot be reached.
    """
    _quiet_httpx()
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.request(method, url, content=body, headers=headers)
    except httpx.HTTPError as error:
        raise OSError(type(error).__name__) from None
    return response.status_code, dict(response.headers), response.content


class HttpClient:
    """GET JSON pages and report downloads with a bearer token, retries and identifier-free errors.

    ``origin`` is the connection file every error names; ``what`` arguments describe the request
    in words an admin can act on ("Graph calendarView of users[3]") and must never hold an
    identifier.
    """

    def __init__(
        self,
        origin: Path,
        tokens: TokenProvider,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60.0,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        _quiet_httpx()
        self.origin = origin
        self.tokens = tokens
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.now = now
        # Redirects are followed by hand: a pre-authenticated download must not receive the token.
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def get_json(
        self,
        url: str,
        what: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The JSON object answered to an authorised GET of ``url``."""
        response = self._send(url, what, params=params, headers=headers, authorised=True, stream=True)
        self._require_success(response, what)
        content = bytearray()
        try:
            for chunk in response.iter_bytes(_CHUNK_BYTES):
                content += chunk
                if len(content) > MAX_PAGE_BYTES:
                    raise self.fail(what, f"the answer is larger than {MAX_PAGE_BYTES // 2**20} MiB")
        except httpx.HTTPError as error:
            raise self.fail(what, f"the answer broke off ({type(error).__name__})") from None
        finally:
            response.close()
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):
            raise self.fail(what, "the answer is not JSON") from None
        if not isinstance(body, dict):
            raise self.fail(what, "the answer is not a JSON object")
        return body

    def download(self, url: str, what: str, sink: IO[bytes], params: Mapping[str, str] | None = None) -> None:
        """Write the body behind ``url`` to ``sink``, following one 302 to a pre-authenticated URL.

        The second request carries no Authorization header: the download URL is signed already,
        and it points at another host that must never see the tenant's token.
        """
        first = self._send(url, what, params=params, headers=None, authorised=True, stream=True)
        try:
            if first.status_code in (301, 302, 303, 307, 308):
                location = first.headers.get("location")
                if not location:
                    raise self.fail(what, "the redirect to the download has no Location")
                first.close()
                second = self._send(location, what, params=None, headers=None, authorised=False, stream=True)
                self._drain(second, what, sink)
            else:
                self._drain(first, what, sink)
        finally:
            first.close()

    def fail(self, what: str, problem: str, field: str | None = None) -> InputFormatError:
        """An ``InputFormatError`` on the connection file saying what went wrong with ``what``."""
        return InputFormatError(
            self.origin,
            f"{what}: {problem}",
            field=field,
            hint=f"Nothing from this pull was stored; run `teamlens ingest {self.origin}` again later.",
        )

    def _drain(self, response: httpx.Response, what: str, sink: IO[bytes]) -> None:
        try:
            self._require_success(response, what)
            for chunk in response.iter_bytes(_CHUNK_BYTES):
                sink.write(chunk)
        except httpx.HTTPError as error:
            raise self.fail(what, f"the download broke off ({type(error).__name__})") from None
        finally:
            response.close()

    def _send(
        self,
        url: str,
        what: str,
        *,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        authorised: bool,
        stream: bool,
    ) -> httpx.Response:
        problem = ""
        for attempt in range(1, self.retry.attempts + 1):
            sent = dict(headers or {})
            if authorised:
                sent["Authorization"] = f"Bearer {self.tokens.token()}"
            request = self._client.build_request("GET", url, params=params, headers=sent)
            try:
                response = self._client.send(request, stream=stream)
            except httpx.TransportError as error:
                # The exception text holds the URL; only its class is safe to show.
                problem = f"the service could not be reached ({type(error).__name__})"
                wait = self.retry.backoff(attempt)
            else:
                if response.status_code not in self.retry.statuses:
                    return response
                problem = f"the service still answered HTTP {response.status_code}"
                asked = retry_after(response.headers.get("retry-after"), self.now())
                wait = min(self.retry.max_wait, asked if asked is not None else self.retry.backoff(attempt))
                response.close()
            if attempt < self.retry.attempts:
                self.sleep(wait)
        raise InputFormatError(
            self.origin,
            f"{what}: {problem} after {self.retry.attempts} attempts",
            hint="The service is throttling or unavailable. Nothing from this pull was stored; run "
            f"`teamlens ingest {self.origin}` again later.",
        )

    def _require_success(self, response: httpx.Response, what: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        response.close()
        if status in (401, 403):
            raise ConfigError(
                f"{self.origin}: {what}: the service refused access (HTTP {status}).",
                "Check the app's permissions and admin consent named in the connection file's "
                "documentation, then run the ingest again.",
            )
        if status == 404:
            raise ConfigError(
                f"{self.origin}: {what}: the service has no such resource (HTTP 404).",
                "Check the connection file: a user, report or application name may be wrong.",
            )
        raise self.fail(what, f"the service answered HTTP {status}")


@dataclass(frozen=True)
class ConnectionFile:
    """A parsed connection TOML, with typed getters whose errors name the file and field, never a value."""

    path: Path
    fields: Mapping[str, object]

    @classmethod
    def load(cls, path: Path, kind: str, allowed: frozenset[str]) -> ConnectionFile:
        """Parse ``path``, check ``kind`` and refuse unknown fields (a typo must not be ignored)."""
        try:
            fields = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                f"{path}: the connection file cannot be read ({type(error).__name__}).",
                "Check the path and the file's permissions.",
            ) from None
        except tomllib.TOMLDecodeError as error:
            # tomllib's message gives the line and column only, never the offending text.
            raise ConfigError(
                f"{path}: the connection file is not valid TOML ({error}).",
                "Fix the TOML syntax; see the example in the connector's docs.",
            ) from None
        connection = cls(path, fields)
        if fields.get("kind") != kind:
            raise connection.error("kind", f'must be "{kind}"')
        unknown = sorted(set(fields) - allowed - {"kind"})
        if unknown:
            raise connection.error(
                unknown[0],
                "is not a field of this connection file",
                f"Use only: {', '.join(sorted(allowed))}.",
            )
        return connection

    def error(self, field: str, problem: str, hint: str = "") -> ConfigError:
        """A ``ConfigError`` naming this file and ``field``."""
        return ConfigError(
            f"{self.path}: connection field '{field}' {problem}.",
            hint or "Edit the connection file and run the ingest again.",
        )

    def text(self, name: str, default: str | None = None) -> str:
        """Field ``name`` as a non-empty string (``default`` when absent, if given)."""
        value = self.fields.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, "is missing or not a non-empty string")
        return value.strip()

    def texts(self, name: str) -> tuple[str, ...]:
        """Field ``name`` as a non-empty list of non-empty strings."""
        value = self.fields.get(name)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise self.error(name, "is missing or not a list of non-empty strings")
        return tuple(v.strip() for v in value)

    def date(self, name: str) -> dt.date:
        """Field ``name`` as a date (a TOML date, or a string YYYY-MM-DD)."""
        value = self.fields.get(name)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(name, "is missing or not a date", "Write it as YYYY-MM-DD.")

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """Field ``name`` as an integer in [low, high]."""
        value = self.fields.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.error(name, f"must be a whole number from {low} to {high}")
        return value

    def file(self, name: str) -> Path:
        """Field ``name`` as a path, relative to the connection file's folder."""
        return (self.path.parent / self.text(name)).resolve()

    def url(self, name: str, default: str) -> str:
        """Field ``name`` as a base URL without a trailing slash."""
        value = self.text(name, default)
        if not value.startswith(("https://", "http://")):
            raise self.error(name, "must be an http(s) URL")
        return value.rstrip("/")


def is_connection_file(path: Path, kind: str) -> bool:
    """Whether ``path`` is a ``.toml`` connection file of ``kind``, cheaply and without raising."""
    if path.suffix.lower() != ".toml":
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        return tomllib.loads(head.decode("utf-8")).get("kind") == kind
    except Exception:  # a sniff answers yes or no, whatever the file holds
        return False
