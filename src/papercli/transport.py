"""Polite HTTP for papercli's network clients (papercli.arxiv, papercli.s2); the only
httpx import.

A PacedHttp is one service's session: one connection, papercli's User-Agent, request
starts at least ``min_interval`` apart (retries included), a total deadline on every
request however slowly the server drips its answer, at most ``max_bytes`` read, and
bounded retries with exponential backoff on 429, 5xx, timeouts, overrun deadlines,
refused connections and answers broken off in transit (not when a host name cannot be
looked up: offline, that would only make a person wait), honouring a Retry-After only
within bounds. Redirects, where a service may follow them, are followed here, each a
request that waits its turn, at most ``MAX_REDIRECTS`` of them, and only to http(s)
addresses. Whatever answers is untrusted. Failures are one-line sentences that name
the service: a NetworkError (exit 3) when it cannot be reached or the retries are spent.
The clients keep what is particular to their service: its URLs, environment variables,
the meaning of its answers and error statuses.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, TypedDict, TypeVar

import httpx

from papercli import __version__
from papercli.errors import EXIT_USAGE, NetworkError, PapercliError
from papercli.textlayout import clipped

USER_AGENT = f"papercli/{__version__} (+https://github.com/papercli/papercli)"
# A Retry-After longer than this counts as this: nothing that long is meant.
RETRY_AFTER_CAP = 24 * 3600.0
# Redirects followed for one request: a mirror that moved needs one or two, and a loop
# must not go on (httpx's own following allowed 20, sent at once, past the pacing).
MAX_REDIRECTS = 5
# Read from the wire at a time: gzip inflates it at most about a thousandfold.
_WIRE_CHUNK = 16_384
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

_T = TypeVar("_T")


class Answer(NamedTuple):
    """One HTTP answer, read whole."""

    status: int
    reason: str
    body: bytes
    headers: httpx.Headers


class TryAgain(Exception):
    """Raised by a ``read`` callback for a well-formed answer that is known to be wrong
    (an empty page, a feed cut off in transit): the request is retried like a 503."""

    def __init__(self, what: str, *, reconnect: bool = False) -> None:
        super().__init__(what)
        self.what = what  # e.g. "an empty page at result 200 of 5,000"
        # Drop the connection first: whatever the answer left unread must not pass
        # for the next one.
        self.reconnect = reconnect


class GaveUp(NetworkError):
    """The retries are spent, or the next wait would pass ``max_retry_wait``."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status  # the last answer's HTTP status; None if there was none


class _Overran(Exception):
    """A request went past its deadline, and its connection was cut."""


class Pacing(TypedDict, total=False):
    """What a client may set of its connection's pacing and bounds, as ``PacedHttp``
    takes them (its defaults stand for what is not given): a client takes them as
    keyword arguments (tests give a fake clock and sleep) and passes them on."""

    clock: Callable[[], float]
    sleep: Callable[[float], None]
    connect_timeout: float
    read_timeout: float
    deadline: float
    max_retries: int
    min_interval: float
    max_retry_wait: float
    max_bytes: int
    pace_file: str | None


class PacedHttp:
    """One connection to one service, paced and bounded; use ``close`` (or the client
    that owns it, as a context manager) so the connection gets closed."""

    def __init__(
        self,
        service: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        deadline: float = 60.0,
        max_retries: int = 3,
        min_interval: float = 3.0,
        max_retry_wait: float = 120.0,
        max_bytes: int = 20_000_000,
        pace_file: str | None = None,
        answer_error: type[PapercliError] = PapercliError,
        follow_redirects: bool = True,
        user_agent: str = USER_AGENT,
    ) -> None:
        """``service`` names the other end in every error sentence ("arXiv").
        ``deadline`` bounds each request in real seconds, headers and body included;
        the clock and sleep only pace requests. The first retry waits ``min_interval``,
        each further one twice as long. ``pace_file`` paces request starts among every
        process that names it too (``_reserve``). ``answer_error`` is raised for an
        answer too large to read."""
        self.service = service
        self.deadline = deadline
        self.max_retries = max_retries
        self.min_interval = min_interval
        self.max_retry_wait = max_retry_wait
        self.max_bytes = max_bytes
        self._pace_file = pace_file
        self._answer_error = answer_error
        self._clock = clock
        self._sleep = sleep
        self._timeout = httpx.Timeout(read_timeout, connect=min(connect_timeout, deadline))
        self._follow_redirects = follow_redirects
        self._user_agent = user_agent
        self._http: httpx.Client | None = None
        self._last_start: float | None = None
        # The open connection's stream, so that a watchdog thread can cut it at the deadline.
        self._stream: Any = None
        self._overran = False
        self._answered: httpx.Response | None = None
        self._lock = threading.Lock()

    @property
    def connection(self) -> httpx.Client | None:
        """The open connection's client; None before the first request and once closed."""
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        with self._lock:
            self._stream = None

    def request(
        self,
        method: str,
        url: str,
        read: Callable[[Answer], _T],
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> _T:
        """One request (``json``, if given, is sent as the body), retried with backoff on
        429, 5xx, timeouts, overrun deadlines, connection errors and answers broken off
        in transit (or that ``read`` says are worth asking again, with TryAgain);
        ``read`` turns any other answer into the result."""
        waited = 0.0  # asleep between tries, by the clock that paces them
        trying = 0.0  # in tries, in real seconds: a slow server's 60 s each, 3 or 6 times
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()  # waiting for another command's request counts too
            with self._one_in_flight():  # released before any backoff
                self._wait_turn()
                retry_after_seconds: float | None = None
                status: int | None = None
                detail = ""
                try:
                    answer = self._send_following(method, url, params, headers or {}, json)
                    if answer.status != 429 and answer.status < 500:
                        return read(answer)
                    status = answer.status
                    retry_after_seconds = retry_after(answer.headers)
                except httpx.TimeoutException:
                    within = f"within {self._timeout.read:g} s"
                    problem = f"{self.service} at {said_url(url)} did not answer {within}"
                except _Overran:
                    within = f"within {self.deadline:g} s"
                    problem = f"{self.service} at {said_url(url)} did not finish answering {within}"
                except (
                    httpx.UnsupportedProtocol,
                    httpx.DecodingError,
                    UnicodeError,  # a host name too long to look up, e.g. in a redirect
                ) as exc:
                    raise NetworkError(
                        f"could not talk to {self.service} at {said_url(url)}: {one_line(str(exc))}"
                    ) from None
                except httpx.RemoteProtocolError as exc:
                    problem = f"{self.service} at {said_url(url)} sent a broken answer"
                    detail = f": {one_line(str(exc)) or type(exc).__name__}"
                except httpx.TransportError as exc:
                    proxy = proxy_for(url)
                    if (lookup := _failed_lookup(exc)) is not None:
                        # Offline, or a wrong host: asking again would only make a person wait
                        # (30 s for Semantic Scholar's retries), as git and curl do not. Through
                        # a proxy, only the proxy's name is looked up here.
                        host = httpx.URL(url).host if proxy is None else f"the proxy {proxy.host}"
                        check = "your connection" if proxy is None else proxy.setting
                        raise NetworkError(
                            f"could not reach {self.service} at {said_url(url)}: cannot look up"
                            f" {host} ({one_line(str(lookup))}); check {check}"
                        ) from None
                    problem = f"could not reach {self.service} at {said_url(url)}"
                    if proxy is not None:
                        problem += f" through the proxy {proxy.host} ({proxy.setting})"
                    detail = f": {one_line(str(exc)) or type(exc).__name__}"
                except TryAgain as exc:
                    if exc.reconnect:
                        self.close()
                    problem = f"{self.service} at {said_url(url)} sent {exc.what}"
                else:
                    answered = "kept answering" if attempt > 1 else "answered"
                    problem = f"{self.service} {answered} {answer.status} {answer.reason}".rstrip()
            trying += time.monotonic() - started
            tries = f"{attempt} {'try' if attempt == 1 else 'tries'}"
            delay = max(self.min_interval * 2 ** (attempt - 1), retry_after_seconds or 0.0)
            if attempt > self.max_retries:
                raise GaveUp(f"{problem} after {tries}{detail}", status)
            # The tries count too: max_retry_wait bounds the whole request, retries included.
            if waited + trying + delay > self.max_retry_wait:
                spent = f" after {waited + trying:.0f} s" if trying >= 1 else ""
                rather = f"gave up{spent} rather than wait {delay:.0f} s more"
                raise GaveUp(f"{problem} after {tries}{detail} ({rather})", status)
            self._sleep(delay)
            waited += delay

    @contextlib.contextmanager
    def _one_in_flight(self) -> Iterator[None]:
        """Hold the service's in-flight lock (a file beside its pace file) while a request
        is under way: arXiv asks for one connection at a time from all of a user's machines,
        and two commands at once each had a request out when the first answer was slow.
        Another command's request is waited for at most a deadline, polled every
        ``IN_FLIGHT_POLL`` s, so that one stopped while it held the lock holds up no other
        for longer; a request then goes as it would without the file."""
        if self._pace_file is None:
            yield
            return
        from papercli.files import locked_file

        with contextlib.ExitStack() as held:
            # In real time, as the other command's request takes it (not the pacing clock).
            until = time.monotonic() + self.deadline
            while True:
                try:
                    held.enter_context(locked_file(self._pace_file + ".busy", wait=False))
                    break
                except BlockingIOError:
                    if time.monotonic() >= until:
                        break
                    time.sleep(IN_FLIGHT_POLL)
            yield

    def _wait_turn(self) -> None:
        """Keep request starts at least min_interval apart, whatever happened in between,
        in this process and, through the pace file, among the others that ask the service.
        A start counts from when the request goes out (``_note_stream``), after its client
        is made and its connection opened, which take 70 ms and more: it waits there again
        if another command's request went out since, later than that one reserved."""
        if self._last_start is not None:
            wait = self._last_start + self.min_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        if self._pace_file is not None:
            start = _reserve(self._pace_file, self._clock(), self.min_interval)
            if start is not None and (wait := start - self._clock()) > 0:
                self._sleep(wait)
        self._last_start = self._clock()

    def _send_following(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str],
        json: Any,
    ) -> Answer:
        """One request and, if the service may be followed, the redirects it answers with:
        each hop waits its turn as any request does; the caller's headers go only to the
        host they were meant for."""
        answer = self._send(method, url, params, headers, json)
        current = httpx.URL(url)
        hops = 0
        while self._follow_redirects and answer.status in _REDIRECTS:
            location = answer.headers.get("Location")
            if location is None:
                return answer
            target = _redirect_target(current, location)
            if target is None:
                raise NetworkError(
                    f"could not talk to {self.service} at {said_url(url)}:"
                    f" it redirected to {clipped(said_url(location))!r},"
                    " which is not an http or https address"
                )
            if hops == MAX_REDIRECTS:
                raise NetworkError(
                    f"could not talk to {self.service} at {said_url(url)}:"
                    f" it redirected more than {MAX_REDIRECTS} times"
                )
            hops += 1
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method, json = "GET", None  # as browsers and httpx do
            if (target.scheme, target.host, target.port) != (
                current.scheme,
                current.host,
                current.port,
            ):
                headers = {}
            current = target
            self._wait_turn()
            answer = self._send(method, str(target), None, headers, json)
        return answer

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str],
        json: Any,
    ) -> Answer:
        """One request, cut off at the deadline; a failed one drops its connection."""
        if self._http is None:
            self._http = self._new_client()
        # httpx has no total timeout: its read timeout restarts with every byte received.
        watchdog = threading.Timer(self.deadline, self._cut_connection)
        self._overran = False
        self._answered = None
        watchdog.start()
        try:
            trace = {"trace": self._note_stream}
            with self._http.stream(
                method, url, params=params, headers=headers, json=json, extensions=trace
            ) as response:
                body = self._read_body(response)
                return Answer(response.status_code, response.reason_phrase, body, response.headers)
        except httpx.InvalidURL:
            # httpx makes a redirect's next request even when it is not to follow it, and
            # fails on an address of another kind (javascript:): the answer is the redirect.
            if (answered := self._answered) is None:
                raise
            return Answer(answered.status_code, answered.reason_phrase, b"", answered.headers)
        except Exception:
            self.close()
            if self._overran:
                raise _Overran from None
            raise
        finally:
            watchdog.cancel()
            watchdog.join()
            if self._overran:
                self.close()  # cut just as the answer completed

    def _read_body(self, response: httpx.Response) -> bytes:
        """The answer's body, at most ``max_bytes`` of it once inflated. Inflated here, not
        by httpx, which inflates each 64 kB read of the wire whole: a gzip bomb held 64 MB
        at once, past any limit (148 MB at a 1 MB one)."""
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip"):
            raise httpx.DecodingError(
                f"it sent its answer in an encoding papercli did not ask for ({encoding!r})"
            )
        inflate = zlib.decompressobj(zlib.MAX_WBITS | 16) if encoding == "gzip" else None
        body = bytearray()
        compressed = 0
        try:
            for wire in response.iter_raw(_WIRE_CHUNK):
                compressed += len(wire)
                # At most one byte past the limit is inflated: enough to know it is passed.
                room = self.max_bytes + 1 - len(body)
                body += wire if inflate is None else inflate.decompress(wire, room)
                if len(body) > self.max_bytes:
                    raise self._answer_error(
                        f"{self.service}'s answer is larger than {self.max_bytes:,} bytes;"
                        " not reading it"
                    )
            if inflate is not None:
                body += inflate.flush()
        except zlib.error as exc:
            raise httpx.DecodingError(str(exc)) from None
        if inflate is not None and compressed and not inflate.eof:
            # zlib inflates what came without a word: the listing's end was simply missing.
            raise TryAgain("a compressed answer that stops short", reconnect=True)
        return bytes(body)

    def _new_client(self) -> httpx.Client:
        """httpx's client, which takes its proxy and certificates from the environment: a
        setting it cannot use is named in one line (exit 2, as a bad PAPERCLI_ARXIV_URL),
        where ``HTTPS_PROXY=socks5://...`` without socksio, a proxy URL with a bad port or
        scheme, or an SSL_CERT_FILE that is missing or holds no certificate ended in a
        traceback. A port past 65535 httpx takes, and the system wraps round to another."""
        try:
            for name in _PROXIES:
                if value := os.environ.get(name, "").strip():
                    port = httpx.URL(value if "://" in value else f"http://{value}").port
                    if port is not None and not 0 < port < 65536:
                        raise ValueError(f"the proxy's port {port} is not one (1 to 65535)")
            return httpx.Client(
                # Only gzip, which _read_body inflates within its bounds.
                headers={"User-Agent": self._user_agent, "Accept-Encoding": "gzip"},
                timeout=self._timeout,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                follow_redirects=False,  # followed in _send_following, paced
                event_hooks={"response": [self._note_answer]},
            )
        except (httpx.InvalidURL, ImportError, ValueError, OSError) as exc:
            # A file that could not be read is a certificate setting; the rest, a proxy's.
            settings = _CERTIFICATES if isinstance(exc, OSError) else _PROXIES
            given = [name for name in settings if os.environ.get(name)]
            where = f"check {', '.join(given)}" if given else "check the environment"
            said = one_line(str(exc) or type(exc).__name__).rstrip(".")
            raise PapercliError(
                f"cannot set up a connection to {self.service}: {said}; {where}", EXIT_USAGE
            ) from None

    def _note_answer(self, response: httpx.Response) -> None:
        """httpx's response hook: the answer, before httpx reads where it redirects to."""
        self._answered = response

    def _note_stream(self, event: str, info: dict[str, Any]) -> None:
        """httpx's trace hook: hold a request about to go out until an interval after the
        last any command sent (``_go_out``), note when it does, and remember each new
        connection's stream (TLS replaces TCP)."""
        if event == "http11.send_request_headers.started":
            if self._pace_file is not None:
                for _ in range(MAX_QUEUED):  # each wait is one interval at most
                    wait = _go_out(self._pace_file, self._clock(), self.min_interval)
                    if wait <= 0:
                        break
                    self._sleep(wait)
            self._last_start = self._clock()
        elif event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            with self._lock:
                self._stream = info.get("return_value")
                if self._overran:  # connected after the deadline passed
                    _shut(self._stream)

    def _cut_connection(self) -> None:
        """The watchdog: shutting the socket down wakes the read blocked on it."""
        with self._lock:
            self._overran = True
            _shut(self._stream)


_USERINFO = re.compile(r"(?<=//)([^/?#@:]*)(:?)[^/?#]*@")
_SECRET_PARAMETER = re.compile(
    r"([?&;][^=&;#]*(?:key|token|secret|pass|pwd|auth|sig|credential|session)[^=&;#]*=)[^&;#]*",
    re.IGNORECASE,
)


def said_url(url: str) -> str:
    """``url`` as a message says it: without its password (``user:***@``; a user name
    alone, often a token, as ``***@``) or the value of a query parameter whose name says it
    is a secret (``api_key=***``): errors go to cron mail and logs, which kept what
    ``PAPERCLI_S2_URL`` or a redirect carried. Read as text, not parsed: a URL no parser
    takes (``http://u:pw@[::1/api``) was quoted whole."""

    def userinfo(found: re.Match[str]) -> str:
        return f"{found[1]}:***@" if found[2] else "***@"

    return _SECRET_PARAMETER.sub(r"\1***", _USERINFO.sub(userinfo, url, count=1))


def url_from_environment(name: str, default: str) -> str:
    """The environment variable ``name`` if set, checked before any request is made;
    else ``default``. Anything but an http(s) address with a usable host is a usage error."""
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        usable = _usable(httpx.URL(value))
    except (httpx.InvalidURL, ValueError, UnicodeError):
        usable = False
    if not usable:
        raise PapercliError(
            f"{name} must be an http or https address such as {default},"
            f" not {clipped(said_url(value))!r}",
            EXIT_USAGE,
        )
    return value


def _usable(url: httpx.URL) -> bool:
    """Whether a request can be sent to ``url``: http(s), and a host that can be looked up."""
    host = url.raw_host.decode("ascii")  # IDNA-encoded already
    return (
        url.scheme in ("http", "https")
        and re.fullmatch(r"[A-Za-z0-9._:-]{1,253}", host) is not None
        # DNS's limits, which the lookup would otherwise enforce with a UnicodeError
        and all(0 < len(label) <= 63 for label in host.removesuffix(".").split("."))
        and (url.port is None or 0 < url.port < 65536)
    )


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL | None:
    """Where a redirect points, resolved against the address that answered; None unless
    it is an address ``_usable`` takes (a file, a malformed URL, a host too long)."""
    try:
        target = current.join(location)
        return target if _usable(target) else None
    except (httpx.InvalidURL, ValueError, UnicodeError):
        return None


def extend_path(base: str, tail: str) -> str:
    """``base`` with ``tail`` (percent-encoded already) appended to its path after a "/",
    keeping its query: ``extend_path("https://h/graph/v1", "paper/batch")``."""
    url = httpx.URL(base)
    path, mark, query = url.raw_path.partition(b"?")
    if not path.endswith(b"/"):
        path += b"/"
    return str(url.copy_with(raw_path=path + tail.encode("ascii") + mark + query))


MAX_QUEUED = 20
IN_FLIGHT_POLL = 0.1  # how often a request waiting for another command's looks again
"""Intervals: a start reserved further ahead than this was noted before the machine
started again (the clock counts from boot), and is not waited for."""


_Pace = tuple[float | None, float | None]
"""What a pace file holds: the last start reserved, and the last request that went out."""


def _reserve(path: str, now: float, interval: float) -> float | None:
    """The start of a request, ``interval`` after the last one reserved in the file at
    ``path`` (by any process) and after the last that went out, or ``now``; noted there for
    the next. arXiv's rate limit holds for "all of the machines under your control as a
    whole": two papercli commands at once must not ask it twice in 3 s. The file is locked
    (``flock``) only while it is read and written; the caller waits outside the lock, so
    that a stopped process holds up no other. The times are ``time.monotonic``'s, which
    counts from boot for every process on Linux and macOS. None, and the process paces
    alone, where the file cannot serve: no ``flock`` (Windows), not a regular file, or
    not readable and writable."""

    def reserve(pace: _Pace, noted: bytes) -> tuple[_Pace, float]:
        last, went_out = pace
        if last is None:
            start = now + interval if noted else now  # unreadable: as if just asked
        elif last - now > MAX_QUEUED * interval or last != last:  # from before a boot; NaN
            start = now + interval
        else:
            start = max(now, last + interval)
        start = max(start, now + _still_to_wait(went_out, now, interval))
        return (start, went_out), start

    return _update_pace_file(path, reserve)


def _go_out(path: str, now: float, interval: float) -> float:
    """How long a request whose headers are about to go out must still wait: until
    ``interval`` after the last request any process sent. 0 when it may go, which the
    file at ``path`` then notes. A start reserved is not yet a request sent: another
    command's client can take a second to start and connect, and its request go out that
    much later than it reserved, nearer to the next one (six commands at once asked arXiv
    2.2 s apart)."""

    def go(pace: _Pace, noted: bytes) -> tuple[_Pace, float]:
        last, went_out = pace
        if (wait := _still_to_wait(went_out, now, interval)) > 0:
            return pace, wait
        return (now if last is None else last, now), 0.0

    return _update_pace_file(path, go) or 0.0


def _still_to_wait(went_out: float | None, now: float, interval: float) -> float:
    """The rest of ``interval`` after a request noted as sent at ``went_out``: 0 when none
    is noted or it went out an interval ago or more, or when it is noted further ahead
    than an interval (sent before a boot) or is NaN."""
    if went_out is None or not now - interval < went_out <= now + interval:
        return 0.0
    return went_out + interval - now


def _update_pace_file(
    path: str, update: Callable[[_Pace, bytes], tuple[_Pace, float]]
) -> float | None:
    """Replace what the pace file at ``path`` holds with what ``update(what it holds, the
    bytes read)`` says (a time None when unreadable), under the file's lock, and return
    the time it answers. None where the file cannot serve (see ``_reserve``)."""
    from papercli.files import locked_file

    try:
        with locked_file(path, wait=True) as fd:
            if fd is None:
                return None
            noted = os.pread(fd, 128, 0)
            pace, answer = update(_read_pace(noted), noted)
            written = " ".join(repr(time) for time in pace if time is not None)
            os.ftruncate(fd, 0)
            os.pwrite(fd, written.encode(), 0)
            return answer
    except OSError:
        return None


def _read_pace(noted: bytes) -> _Pace:
    """``b"1003.0 1000.8"``: the start last reserved, then the last request sent; a file a
    papercli from before 5 December wrote holds only the first."""
    try:
        times = [float(word) for word in noted.split()]
    except ValueError:
        return None, None
    if len(times) == 2:
        return times[0], times[1]
    return (times[0], None) if len(times) == 1 else (None, None)


class Proxy(NamedTuple):
    host: str  # and port, as the setting gives them
    setting: str  # the environment variable that names it


def proxy_for(url: str) -> Proxy | None:
    """The proxy httpx sends a request for ``url`` through, from the environment
    (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY, in either case; none for a host NO_PROXY
    names), to name it when the connection fails."""
    target = httpx.URL(url)
    for name in (f"{target.scheme.upper()}_PROXY", "ALL_PROXY"):
        for setting in (name.lower(), name):  # as urllib and httpx: lower case first
            if value := os.environ.get(setting, "").strip():
                import urllib.request  # only a failed connection through a proxy needs it

                if urllib.request.proxy_bypass(target.host):
                    return None
                proxy = httpx.URL(value if "://" in value else f"http://{value}")
                port = f":{proxy.port}" if proxy.port is not None else ""
                return Proxy(f"{proxy.host}{port}", setting)
    return None


def _failed_lookup(exc: BaseException) -> socket.gaierror | None:
    """The failed look-up of a host name behind a failed connection, if that was it."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, socket.gaierror):
        cause = cause.__cause__ or cause.__context__
    return cause


# What httpx reads from the environment to connect: named when it cannot use them.
_PROXIES = tuple(
    spelling
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
    for spelling in (name, name.lower())
)
_CERTIFICATES = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def one_line(text: str) -> str:
    """Text from the other end, made fit to end a one-line sentence."""
    return clipped(" ".join(text.split()), 200)


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds asked for by Retry-After (delta-seconds or HTTP-date), if readable.

    A date in the past asks for no wait, and anything over RETRY_AFTER_CAP counts as
    the cap. Anything else is ignored, including a negative number and several
    Retry-After headers (which arrive joined by commas).
    """
    value = headers.get("Retry-After", "").strip()
    if re.fullmatch(r"[0-9]+", value):
        seconds = float(value)  # inf, not an error, for absurdly many digits
    else:
        when = _http_date(value)
        if when is None:
            return None
        # Measured against the server's own clock when it sends a readable one.
        now = _http_date(headers.get("Date", "")) or datetime.now(UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _shut(stream: Any) -> None:
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
