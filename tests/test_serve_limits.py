"""zoo serve's bounds, on a real server on loopback: every loopback spelling keeps the Host
and Origin checks, deep JSON is a 400, a burst of 200 connections is answered, and decodes
of uploaded pictures are bounded in count and pixels (503 with Retry-After past them)."""

from __future__ import annotations

import http.client
import io
import socket
import threading

import pytest

from zoo.serve import images
from zoo.serve.images import DecodeBudget, Refused, decode
from zoo.serve.server import App, attach, bind, is_loopback, json_depth


def _ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Served:
    def __init__(self, host: str):
        self.server = bind(host, 0)
        attach(self.server, App([], []), host)
        self.port = self.server.server_address[1]
        self.address = self.server.server_address[0]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True)
        self.thread.start()

    def request(self, method, path, headers=None, body=None):
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        conn = http.client.HTTPConnection(self.address, self.port, timeout=30)
        conn.sock = socket.create_connection((self.address, self.port), timeout=30)
        assert conn.sock.family == family
        conn.putrequest(method, path, skip_host=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, dict(response.getheaders()), data

    def close(self):
        self.server.shutdown()
        self.server.server_close()


SPELLINGS = ["127.0.0.1", "127.0.0.2", "localhost", "::1", "::ffff:127.0.0.1"]


@pytest.mark.parametrize("host", SPELLINGS)
def test_every_loopback_spelling_keeps_the_host_and_origin_checks(host):
    if ":" in host and not _ipv6():
        pytest.skip("no IPv6 on this machine")
    assert is_loopback(host) and is_loopback(f"[{host}]" if ":" in host else host)
    served = Served(host)
    try:
        port = served.port
        shown = f"[{host}]" if ":" in host else host
        status, _, _ = served.request("GET", "/api/runs", {"Host": f"{shown}:{port}"})
        assert status == 200
        status, _, _ = served.request("GET", "/api/runs", {"Host": f"evil.example:{port}"})
        assert status == 403  # DNS rebinding: a site's name resolved to this machine
        status, _, _ = served.request(
            "GET", "/api/runs", {"Host": f"{shown}:{port}", "Origin": "http://evil.example"}
        )
        assert status == 403
    finally:
        served.close()


def test_addresses_beyond_this_machine_are_not_loopback():
    for host in ("0.0.0.0", "::", "192.0.2.1", "::ffff:192.0.2.1", "example.org", "127.0.0.1.x"):
        assert not is_loopback(host), host


@pytest.fixture(scope="module")
def served():
    s = Served("127.0.0.1")
    yield s
    s.close()


def _headers(served):
    return {"Host": f"127.0.0.1:{served.port}", "Content-Type": "application/json"}


def test_deeply_nested_json_is_a_400_that_says_why(served):
    body = b"[" * 100_000 + b"]" * 100_000
    status, _, data = served.request("POST", "/api/predict", _headers(served), body)
    assert status == 400 and b"nested deeper" in data
    status, _, data = served.request("POST", "/api/predict", _headers(served), b"{" * 5)
    assert status == 400 and b"Expected JSON" in data
    assert json_depth(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[", "b": [[1]]}') == 3


def test_a_burst_of_200_connections_is_answered_in_full(served):
    start = threading.Barrier(200)
    answers: list[int] = []
    lock = threading.Lock()

    def one():
        start.wait(timeout=30)
        try:
            status, _, _ = served.request("GET", "/api/runs", {"Host": f"127.0.0.1:{served.port}"})
        except OSError as err:
            status = repr(err)
        with lock:
            answers.append(status)

    threads = [threading.Thread(target=one) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers.count(200) == 200, [a for a in answers if a != 200][:5]


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_decodes_in_flight_are_bounded_and_the_excess_is_told_to_retry(monkeypatch):
    pytest.importorskip("PIL")
    data = _png(3000, 3000)  # 9 M pixels in a few KB
    budget = DecodeBudget(decodes=8, size=20_000_000 * 12)  # two such pictures at once
    monkeypatch.setattr(images, "BUDGET", budget)
    outcomes: list[object] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def one():
        start.wait(timeout=30)
        try:
            outcome = decode(data, (32, 32, 3)).shape
        except Refused as refused:
            outcome = (refused.status, refused.retry_after)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert budget.peak <= 20_000_000 * 12 and budget.held == budget.busy == 0
    assert (32, 32, 3) in outcomes
    assert set(outcomes) <= {(32, 32, 3), (503, images.RETRY_AFTER_S)}
    assert decode(data, (32, 32, 3)).shape == (32, 32, 3)  # free again afterwards


def test_a_503_carries_retry_after(served, monkeypatch):
    def busy(_data):
        raise Refused(503, "busy", retry_after=images.RETRY_AFTER_S)

    monkeypatch.setattr(App, "upload", lambda self, data: busy(data))
    status, headers, _ = served.request(
        "POST", "/api/image", {"Host": f"127.0.0.1:{served.port}"}, b"x"
    )
    assert status == 503 and headers.get("Retry-After") == str(images.RETRY_AFTER_S)


def test_a_negative_run_number_is_no_run(served):
    status, _, data = served.request(
        "GET", "/api/random?run=-1", {"Host": f"127.0.0.1:{served.port}"}
    )
    assert status == 404 and b"No run of that number" in data


def test_a_negative_index_never_picks_from_the_end():
    app = App([], [])
    with pytest.raises(Refused, match="No run of that number"):
        app._index({"run": ["-1"]}, "run", ["first", "last"])
    assert app._index({"run": ["1"]}, "run", ["first", "last"]) == "last"


def test_a_body_sent_a_byte_at_a_time_is_dropped_at_the_request_deadline(served, monkeypatch):
    import select
    import time

    from zoo.serve import server

    monkeypatch.setattr(server, "REQUEST_S", 1.5)
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    began = time.monotonic()
    head = f"POST /api/predict HTTP/1.0\r\nHost: 127.0.0.1:{served.port}\r\n"
    sock.sendall(head.encode() + b"Content-Length: 1000\r\n\r\n")
    try:
        for _ in range(50):  # a byte every 0.2 s: each well within the silence timeout
            if select.select([sock], [], [], 0.2)[0]:
                break
            sock.sendall(b"[")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.0 408"), answer[:80]
    assert b"did not arrive in time" in answer
    assert time.monotonic() - began < 5


def test_many_idle_connections_hold_no_more_threads_than_allowed(monkeypatch):
    import time

    from zoo.serve import server

    monkeypatch.setattr(server, "MAX_CONNECTIONS", 8)
    monkeypatch.setattr(server, "REQUEST_S", 0.5)
    before = threading.active_count()
    s = Served("127.0.0.1")
    idle = [socket.create_connection(("127.0.0.1", s.port), timeout=10) for _ in range(40)]
    try:
        time.sleep(0.3)
        most = threading.active_count() - before - 1  # the serving thread
        assert most <= 8, most
        # the idle ones are dropped at their deadline, and a real request gets through
        status, _, _ = s.request("GET", "/api/runs", {"Host": f"127.0.0.1:{s.port}"})
        assert status == 200
        for sock in idle:
            sock.settimeout(10)
            assert sock.recv(1) == b""  # closed by the server
    finally:
        for sock in idle:
            sock.close()
        s.close()


def test_numbers_too_large_for_a_float_are_a_400():
    from types import SimpleNamespace

    from zoo.serve.runs import ImageGroup
    from zoo.serve.server import _features

    huge = 10**400  # JSON's integers have no bound; a float stops near 1.8e308
    with pytest.raises(Refused, match="Every field needs a number") as raised:
        _features([huge, 1.0], (2,))
    assert raised.value.status == 400
    group = ImageGroup(0, [SimpleNamespace(shape=(2, 2))])
    with pytest.raises(Refused, match="Pixel values must be numbers") as raised:
        group.pixels([huge, 0, 0, 0])
    assert raised.value.status == 400
    assert group.pixels([255, 0, 0, 1]).tolist() == [[255, 0], [0, 1]]


def _saved(array, format: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=format)
    return buffer.getvalue()


def test_a_16_bit_grey_picture_reads_as_its_high_byte_like_a_16_bit_colour_one():
    pytest.importorskip("PIL")
    import numpy as np

    grey = np.full((6, 6), 0x8000, np.uint16)  # mid-grey in 16 bits, once read as white
    grey[0, 0] = 0xFFFF
    pixels = decode(_saved(grey, "PNG"), (6, 6))
    assert pixels[0, 0] == 255 and (pixels.ravel()[1:] == 128).all()
    assert (decode(_saved(grey, "TIFF"), (6, 6, 3)).ravel()[3:] == 128).all()


def test_the_decode_budget_counts_the_bytes_of_16_and_32_bit_pictures(monkeypatch):
    pytest.importorskip("PIL")
    import numpy as np

    pictures = {
        "8-bit grey": _saved(np.zeros((200, 300), np.uint8), "PNG"),
        "16-bit grey": _saved(np.zeros((200, 300), np.uint16), "PNG"),
        "32-bit float": _saved(np.zeros((200, 300), np.float32), "TIFF"),
    }
    held = {}
    for name, data in pictures.items():
        budget = DecodeBudget(decodes=4, size=images.BYTES_IN_FLIGHT)
        monkeypatch.setattr(images, "BUDGET", budget)
        assert decode(data, (8, 8)).shape == (8, 8)
        held[name] = budget.peak / (200 * 300)
    assert held["16-bit grey"] >= 1.5 * held["8-bit grey"]
    assert held["32-bit float"] >= 3 * held["8-bit grey"]
    # the largest picture allowed, of the kind that holds most, still fits alone
    assert images.PIXEL_LIMIT * (2 * 4 + 4) <= images.BYTES_IN_FLIGHT


def test_a_photo_marked_as_turned_is_decoded_the_right_way_up():
    pytest.importorskip("PIL")
    import numpy as np
    from PIL import Image

    stored = np.zeros((40, 20, 3), np.uint8)
    stored[:20] = 255  # the top half white, as the camera stored it
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # to be turned a quarter clockwise: the white half on the right
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", exif=exif.tobytes())
    pixels = decode(buffer.getvalue(), (4, 4, 3))[:, :, 0]
    assert (pixels[:, 0] == 0).all() and (pixels[:, -1] == 255).all()
