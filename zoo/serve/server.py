"""The HTTP side of `zoo serve`: a fixed table of routes, nothing read from disk by a path
the browser sends, uploads refused with a message, and a server that stops on Ctrl-C.

Routes: GET / (the page), /app.js, /style.css, /api/runs, /api/random?group=N or ?run=N;
POST /api/image (a picture's bytes), /api/predict (JSON). Everything else is 404.
"""

from __future__ import annotations

import errno
import io
import ipaddress
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

import numpy as np

from zoo.errors import OptionError
from zoo.serve.images import UPLOAD_LIMIT, Refused, decode, megabytes, too_big
from zoo.serve.runs import ImageGroup, ServedRun

log = logging.getLogger(__name__)
SERVE = {"command": "serve"}  # the `zoo` program shows these as "zoo serve: ..."

STATIC = {  # the only files served: route -> (file in zoo/serve/static, content type)
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
JSON_LIMIT = 1024 * 1024  # bytes of a /api/predict request: a 32x32x3 image is ~12 KB
DRAIN_LIMIT = 64 * 1024 * 1024  # an oversized upload is read and dropped up to here, so the
# browser gets the refusal instead of a reset connection; beyond it the connection is closed
TIMEOUT_S = 30  # a client that stops sending is dropped, not waited for
REQUEST_S = 60  # the whole request (line, headers, body) must arrive within this: a client
# that sends a byte now and then (slowloris) is dropped, not kept for hours
MAX_CONNECTIONS = 64  # handled at once, a thread each; more wait in the listening backlog
JSON_DEPTH = 16  # a predict request nests 2 levels; far deeper is an attack on the parser
HEADERS = {
    # Only this server's own files: the page can load nothing from the internet.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine alone: "localhost", 127.0.0.0/8, ::1, or an IPv4 loopback
    address mapped into IPv6 (::ffff:127.0.0.1), however it is spelled."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def exposure_warning(host: str) -> str | None:
    """What binding to `host` means, when it is more than this machine."""
    if is_loopback(host):
        return None
    return (
        f"listening on {host}: any machine that can reach this one on the network "
        "can open the page, upload files and run the models; there is no password and no "
        "encryption. Leave out --host (127.0.0.1) to keep it to this machine."
    )


class App:
    """The page's answers, apart from HTTP: a request in, (status, type, bytes) out."""

    def __init__(self, runs: list[ServedRun], groups: list[ImageGroup]):
        self.runs = runs
        self.groups = groups
        self.rng = np.random.default_rng()

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def json(data, status: int = 200) -> tuple[int, str, bytes]:
        return status, "application/json", json.dumps(data).encode("utf-8")

    def _index(self, query: dict, key: str, items: list):
        values = query.get(key)
        if not values:
            return None
        try:
            number = int(values[0])
        except ValueError:
            number = -1
        if not 0 <= number < len(items):  # -1 is no run, not the last one
            raise Refused(404, f"No {key} of that number.")
        return items[number]

    def _group(self, number) -> ImageGroup:
        if type(number) is not int or not 0 <= number < len(self.groups):  # True is no group
            raise Refused(404, "No image group of that number.")
        return self.groups[number]

    def _run(self, number) -> ServedRun:
        if type(number) is not int or not 0 <= number < len(self.runs):
            raise Refused(404, "No run of that number.")
        return self.runs[number]

    # -- routes ----------------------------------------------------------------------------
    def get(self, path: str, query: dict) -> tuple[int, str, bytes]:
        if path in STATIC:
            name, kind = STATIC[path]
            return 200, kind, resources.files("zoo.serve").joinpath("static", name).read_bytes()
        if path == "/api/runs":
            return self.json(
                {
                    "runs": [r.describe() for r in self.runs],
                    "groups": [g.describe() for g in self.groups],
                    "tabular": [r.id for r in self.runs if not r.is_image],
                    "upload_limit": UPLOAD_LIMIT,
                    "start": self._start(),
                }
            )
        if path == "/api/random":
            group = self._index(query, "group", self.groups)
            if group is not None:
                return self.json(self._random(group.runs[0]))
            run = self._index(query, "run", self.runs)
            if run is not None:
                return self.json(self._random(run))
            raise Refused(400, "Say which group or run.")
        raise Refused(404, "Not found.")

    def _start(self) -> dict:
        """A test example for every image group and tabular run, with each model's answer:
        the page opens on them, its cards never empty."""
        groups = []
        for group in self.groups:
            try:
                found = self._random(group.runs[0])
            except Refused:  # nothing stored to draw from: the page starts with no picture
                groups.append(None)
                continue
            x = group.pixels(found["pixels"])
            groups.append({**found, "answers": [{"run": r.id, **r.answer(x)} for r in group.runs]})
        tabular = {}
        for run in self.runs:
            if run.is_image:
                continue
            try:
                found = self._random(run)
            except Refused:
                continue
            x = _features(found["features"], run.shape)
            tabular[str(run.id)] = {**found, "answers": [{"run": run.id, **run.answer(x)}]}
        return {"groups": groups, "tabular": tabular}

    def _random(self, run: ServedRun) -> dict:
        found = run.example(self.rng)
        x = found.pop("x")
        if run.is_image:
            found["pixels"] = np.clip(np.round(x), 0, 255).astype(int).ravel().tolist()
        else:
            values = np.ravel(x)
            if values.dtype == np.float32:  # 6.3, not 6.300000190734863: the same float32
                found["features"] = [float(str(v)) for v in values]
            else:
                found["features"] = [float(v) for v in values]
        return found

    def upload(self, data: bytes) -> tuple[int, str, bytes]:
        """The picture as each image group's pixels."""
        groups = [g for g in self.groups if g.uploads]
        if not groups:
            raise Refused(400, "None of these runs takes pictures.")
        pixels = {str(g.id): decode(data, g.shape).ravel().tolist() for g in groups}
        return self.json({"pixels": pixels})

    def predict(self, request) -> tuple[int, str, bytes]:
        if not isinstance(request, dict):
            raise Refused(400, "Expected a JSON object.")
        if "group" in request:
            group = self._group(request["group"])
            x = group.pixels(request.get("pixels"))
            answers = [{"run": r.id, **r.answer(x)} for r in group.runs]
            return self.json({"answers": answers})
        run = self._run(request.get("run"))
        if run.is_image:
            raise Refused(400, "Send pictures to an image run's group.")
        x = _features(request.get("features"), run.shape)
        return self.json({"answers": [{"run": run.id, **run.answer(x)}]})


def _features(values, shape: tuple[int, ...]) -> np.ndarray:
    size = int(np.prod(shape))
    if not isinstance(values, list) or len(values) != size:
        raise Refused(400, f"Expected {size} feature values.")
    try:
        x = np.array([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # an integer of 400 digits
        raise Refused(400, "Every field needs a number.") from None
    if not np.all(np.isfinite(x)) or np.any(np.abs(x) > 1e30):
        raise Refused(400, "Every field needs a finite number.")
    return x.reshape(shape)


def make_handler(app: App, allowed_hosts: set[str] | None):
    """The request handler class bound to `app`. `allowed_hosts`: the Host headers accepted
    (None: any), so that a web site cannot reach a loopback server through DNS rebinding."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "zoo"
        sys_version = ""
        timeout = TIMEOUT_S

        def setup(self):
            super().setup()
            # one request per connection (HTTP/1.0): its deadline runs from the connection
            raw = _DeadlineReader(self.connection, time.monotonic() + REQUEST_S)
            self.rfile = io.BufferedReader(raw, self.rbufsize if self.rbufsize > 0 else 8192)

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass  # a terminal line per request is noise; refusals are on the page

        def _send(
            self, status: int, kind: str, body: bytes, close: bool = False, extra=None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for key, value in {**HEADERS, **(extra or {})}.items():
                self.send_header(key, value)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _refuse(self, refused: Refused, close: bool = False) -> None:
            extra = {}
            if refused.retry_after is not None:
                extra["Retry-After"] = str(refused.retry_after)
            body = App.json({"error": refused.message}, refused.status)
            self._send(*body, close=close, extra=extra)

        def _checked(self) -> tuple[str, dict] | None:
            if allowed_hosts is not None and self.headers.get("Host", "") not in allowed_hosts:
                self._refuse(Refused(403, "Unknown host name."), close=True)
                return None
            origin = self.headers.get("Origin")
            if origin is not None and allowed_hosts is not None:
                if urlsplit(origin).netloc not in allowed_hosts:
                    self._refuse(Refused(403, "Requests from other sites are refused."), True)
                    return None
            parts = urlsplit(self.path)
            return parts.path, parse_qs(parts.query)

        def _answer(self, work) -> None:
            try:
                self._send(*work())
            except Refused as refused:
                self._refuse(refused)
            except (BrokenPipeError, ConnectionResetError):
                pass
            except Exception as err:  # a bug: the page says so, the server keeps serving
                log.error("%s: %s", type(err).__name__, err, extra=SERVE)
                self._refuse(Refused(500, "The server failed on this request (a bug)."))

        def do_GET(self):  # noqa: N802 - the base class's name
            checked = self._checked()
            if checked is not None:
                self._answer(lambda: app.get(*checked))

        do_HEAD = do_GET  # noqa: N815

        def _body(self, limit: int) -> bytes:
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                raise Refused(411, "The request has no length.")
            size = int(length)
            if size > limit:
                if size <= DRAIN_LIMIT:  # read it, so the browser hears the refusal
                    left = size
                    while left > 0:
                        chunk = self.rfile.read(min(left, 1 << 20))
                        if not chunk:
                            break
                        left -= len(chunk)
                else:
                    self.close_connection = True
                raise (
                    too_big(size)
                    if limit == UPLOAD_LIMIT
                    else Refused(413, f"The request is over {megabytes(limit)}.")
                )
            try:
                body = self.rfile.read(size)
            except TimeoutError:
                body = b""
            if len(body) < size:  # too slow, or the client stopped sending
                self.close_connection = True
                raise Refused(408, "The request did not arrive in time; send it again.")
            return body

        def do_POST(self):  # noqa: N802 - the base class's name
            checked = self._checked()
            if checked is None:
                return
            path, _ = checked

            def work():
                if path == "/api/image":
                    return app.upload(self._body(UPLOAD_LIMIT))
                if path == "/api/predict":
                    body = self._body(JSON_LIMIT)
                    if json_depth(body) > JSON_DEPTH:
                        raise Refused(400, f"The JSON is nested deeper than {JSON_DEPTH} levels.")
                    try:
                        request = json.loads(body)
                    except (ValueError, UnicodeDecodeError, RecursionError):
                        raise Refused(400, "Expected JSON.") from None
                    return app.predict(request)
                raise Refused(404, "Not found.")

            self._answer(work)

    return Handler


def json_depth(body: bytes) -> int:
    """How deeply the arrays and objects of `body` nest (brackets inside strings not counted);
    checked before parsing, so that no request can make the parser recurse without end."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


class _DeadlineReader(io.RawIOBase):
    """A connection's reading side that gives up (TimeoutError) once `deadline` has passed,
    however the bytes trickle in: the socket's own timeout counts from each byte received."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock, self.deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took too long")
        self.sock.settimeout(min(left, TIMEOUT_S))
        try:
            return self.sock.recv_into(buffer)
        finally:
            self.sock.settimeout(TIMEOUT_S)  # the answer is written with the usual timeout


class Server(ThreadingHTTPServer):
    """At most MAX_CONNECTIONS handled at once: the next connection is accepted when one ends
    (the kernel's backlog holds the rest), so many slow clients cannot take a thread each."""

    daemon_threads = True  # Ctrl-C does not wait for a slow client
    allow_reuse_address = True
    request_queue_size = 256  # a burst of a page's requests is queued, not reset (default 5)

    def __init__(self, *args, **kwargs):
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.stopping = False
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        while not self.slots.acquire(timeout=0.5):
            if self.stopping:
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def shutdown(self):
        self.stopping = True
        super().shutdown()


def bind(host: str, port: int) -> Server:
    """The listening socket, bound before any model loads so that a port in use is said at
    once; OptionError naming --host or --port when it cannot listen. `attach` gives it the
    page to serve."""
    server_class = Server
    if ":" in host.strip("[]"):
        server_class = type("Server6", (Server,), {"address_family": socket.AF_INET6})
    try:
        return server_class((host.strip("[]"), port), BaseHTTPRequestHandler)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise OptionError("port", f"{port} is in use; choose another `port=`") from None
        if err.errno in (errno.EACCES, errno.EPERM):
            raise OptionError("port", f"{port} needs privileges; choose one above 1023") from None
        raise OptionError("host", f"cannot listen on {host!r}: {err.strerror or err}") from None


def attach(server: Server, app: App, host: str) -> None:
    """Serve `app` from now on; on a loopback address only for this machine's host names."""
    allowed = None
    bound = server.server_address[0]  # what the name resolved to, not how it was spelled
    if is_loopback(host) or is_loopback(bound):
        port = server.server_address[1]
        names = {"localhost", "127.0.0.1", "[::1]", host, bound}
        names |= {f"[{n.strip('[]')}]" for n in names if ":" in n}
        allowed = {f"{name}:{port}" for name in names if ":" not in name or name[0] == "["}
    server.RequestHandlerClass = make_handler(app, allowed)


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


def run_server(run_dirs, host: str, port: int, *, ready=None) -> None:
    """Load the runs, listen, serve until a signal; the socket is closed whatever happens."""
    from zoo.backend import start_backend
    from zoo.export.extras import require
    from zoo.serve.options import EXTRA
    from zoo.serve.runs import load_runs, serve_runs

    runs = load_runs(run_dirs)  # a bad folder, a missing package or a busy port is said
    require(("PIL",), "zoo serve", EXTRA)  # before Keras starts
    server = bind(host, port)
    try:
        start_backend()
        served, groups = serve_runs(runs)
        attach(server, App(served, groups), host)
        warning = exposure_warning(host)
        if warning:
            log.warning("%s", warning, extra=SERVE)
        url = url_of(host, server.server_address[1])
        if ready is not None:
            ready(url)
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
