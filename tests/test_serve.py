"""zoo serve in a real headless Chromium (Debian's, driven by Playwright): pictures uploaded,
shifted with the arrow keys and answered by two image runs side by side, each answer equal to
`model.predict` on the same pixels; tabular runs' form; refusals; nothing served outside the
page and the runs; Ctrl-C."""

from __future__ import annotations

import http.client
import io
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from trained_runs import TRAIN

from zoo.runfolder import read_run_folder
from zoo.serve.images import UPLOAD_LIMIT, shift

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOLERANCE = 1e-4
START_S = 180  # Keras and three models load before the server listens


@pytest.fixture(scope="module")
def runs(cifar_runs_copy):
    """The MLP and a small CNN on the CIFAR-100 fixture, an MLP on iris (a form) and one on
    digits (a tabular set whose features are a picture's pixels)."""
    import zoo

    found = dict(cifar_runs_copy)
    reports = found["mlp"].parent
    found["iris"] = zoo.train("mlp", "iris", **{**TRAIN, "out": str(reports)}).folder
    found["digits"] = zoo.train("mlp", "digits", **{**TRAIN, "out": str(reports)}).folder
    return found


@pytest.fixture(scope="module")
def models(runs):
    return {name: read_run_folder(path).load_model() for name, path in runs.items()}


@pytest.fixture(scope="module")
def server(runs):
    """`zoo serve` on a free port (0: the system picks; the address is read from its output)."""
    command = "from zoo.cli import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", command, "serve", runs["mlp"], runs["cnn"], runs["iris"]]
        + [runs["digits"]]
        + ["--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    deadline, url = time.monotonic() + START_S, None
    while url is None and time.monotonic() < deadline and process.poll() is None:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if "page is at " in line:
            url = line.split("page is at ", 1)[1].split()[0]
    if url is None:
        process.kill()
        pytest.fail(f"zoo serve did not start: {process.stderr.read()}")
    yield {"url": url, "process": process}
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def request(server, method: str, path: str, body: bytes | None = None, headers=None):
    """A raw HTTP request: the path goes out exactly as written (no `..` folded away)."""
    parts = urlsplit(server["url"])
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        given = {"Host": f"{parts.hostname}:{parts.port}", **(headers or {})}
        for key, value in given.items():
            connection.putheader(key, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


# --- the server alone -------------------------------------------------------------------------


def test_the_page_and_its_files_are_served_and_nothing_else(server, runs):
    status, body = request(server, "GET", "/")
    assert status == 200 and b"<title>zoo serve</title>" in body
    assert request(server, "GET", "/app.js")[0] == 200
    status, body = request(server, "GET", "/api/runs")
    described = json.loads(body)
    names = [runs[k].name for k in ("mlp", "cnn", "iris", "digits")]
    assert [r["name"] for r in described["runs"]] == names
    assert described["groups"][0]["runs"] == [0, 1] and described["tabular"] == [2, 3]
    mlp = runs["mlp"].name
    for path in [
        "/../config.json",
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/static/../../../setup.cfg",
        "/app.js/../../zoo/serve/server.py",
        "/api/../../README.md",
        "//etc/passwd",
        f"/{mlp}/model.keras",
        f"/../{mlp}/config.json",
        "/config.json",
        "/model.keras",
        "/index.html",
        "/static/app.js",
    ]:
        status, body = request(server, "GET", path)
        assert status == 404, path
        assert json.loads(body) == {"error": "Not found."}, path


def test_a_request_naming_another_host_or_coming_from_another_site_is_refused(server):
    port = urlsplit(server["url"]).port
    status, body = request(server, "GET", "/", headers={"Host": f"attacker.example:{port}"})
    assert status == 403 and b"<html" not in body
    status, _ = request(
        server, "POST", "/api/predict", b"{}", {"Origin": "https://attacker.example"}
    )
    assert status == 403


def test_uploads_over_the_limit_or_not_images_are_refused_and_the_server_goes_on(server):
    status, body = request(server, "POST", "/api/image", os.urandom(UPLOAD_LIMIT + 1))
    assert status == 413 and "up to 5.0 MB" in json.loads(body)["error"]
    status, body = request(server, "POST", "/api/image", b"just some text, not a picture\n")
    assert status == 415 and "not an image" in json.loads(body)["error"]
    status, body = request(server, "POST", "/api/predict", json.dumps({"group": 0}).encode())
    assert status == 400 and "3072 pixel values" in json.loads(body)["error"]
    assert request(server, "GET", "/api/runs")[0] == 200


def test_a_busy_port_a_folder_that_is_no_run_and_a_missing_pillow_are_said_at_once(
    tmp_path, monkeypatch
):
    from click.testing import CliRunner
    from run_fixtures import make_run_folder

    from zoo.cli import cli

    folder = make_run_folder(tmp_path, "image", with_model=True)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", str(folder), "--port", str(port)])
    assert result.exit_code == 2 and f"{port} is in use; choose another --port" in result.output
    result = CliRunner().invoke(cli, ["serve", str(tmp_path)])
    assert result.exit_code == 2 and "is not a run folder" in result.output
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    result = CliRunner().invoke(cli, ["serve", str(folder)])
    assert result.exit_code == 2
    assert "needs pillow, which is not installed: pip install 'keras-zoo[serve]'" in result.output


def test_listening_beyond_this_machine_is_said_to_mean_anyone_on_the_network():
    from zoo.serve.server import exposure_warning

    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert exposure_warning(host) is None
    warning = exposure_warning("0.0.0.0")
    assert "any machine that can reach this one" in warning and "no password" in warning


# --- in the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.requested = []
    page.errors = []
    page.on("request", lambda r: page.requested.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(server["url"])
    page.wait_for_selector("body[data-ready='1']")
    yield page
    assert page.errors == []
    page.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)  # waits without evaluating strings, as the page's CSP asks


def upload(page, path: Path) -> None:
    page.set_input_files("#file", str(path))


def wait_shown(page, dx: int, dy: int) -> None:
    page.wait_for_selector(f"section.group[data-shown='{dx},{dy}'][data-pending='0']")


def shown(page, run: int) -> dict[str, float]:
    """The classes and probabilities a model's card shows (its data and its text agree)."""
    rows = page.eval_on_selector_all(
        f".card[data-run='{run}'] li",
        "rows => rows.map(r => [r.dataset.class, r.dataset.p, r.querySelector('.pct').innerText])",
    )
    for _, p, text in rows:
        assert text == f"{100 * float(p):.2f}%"
    return {name: float(p) for name, p, _ in rows}


def assert_answers(page, models, pixels: np.ndarray) -> None:
    """Each image run's card shows what `model.predict` gives for these pixels."""
    for run, name in ((0, "mlp"), (1, "cnn")):
        expected = models[name].predict(pixels[None].astype(np.float32), verbose=0)[0]
        got = shown(page, run)
        classes = ["apple", "otter", "pickup_truck"]
        assert list(got) == sorted(classes, key=lambda c: -expected[classes.index(c)])
        for i, c in enumerate(classes):
            assert abs(got[c] - expected[i]) <= TOLERANCE, (name, c, got[c], expected[i])


def canvas_pixels(page, shape) -> np.ndarray:
    """The image drawn on the page, one value per image pixel (the centre of its square)."""
    values = page.evaluate(
        """([h, w]) => {
            const canvas = document.querySelector("section.group canvas");
            const s = canvas.width / w, data = canvas.getContext("2d").getImageData(
                0, 0, canvas.width, canvas.height).data;
            const out = [];
            for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
                const i = ((y * s + s / 2) * canvas.width + x * s + s / 2) * 4;
                out.push(data[i], data[i + 1], data[i + 2]);
            }
            return out;
        }""",
        list(shape[:2]),
    )
    return np.array(values, dtype=np.uint8).reshape(shape)


def test_two_runs_side_by_side_follow_every_shift_of_an_uploaded_picture(
    page, models, server, tmp_path
):
    pixels = np.random.default_rng(7).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    path = tmp_path / "picture.png"
    path.write_bytes(png(pixels))
    upload(page, path)
    wait_shown(page, 0, 0)
    assert page.locator(".card").count() == 4  # two image runs, the iris and digits runs' cards
    assert_answers(page, models, pixels)
    np.testing.assert_array_equal(canvas_pixels(page, pixels.shape), pixels)

    for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
        page.keyboard.press(key)
    wait_shown(page, 2, 1)
    moved = shift(pixels, 2, 1)
    assert moved[:, :2].max() == 0 and moved[:1].max() == 0  # the uncovered border is black
    np.testing.assert_array_equal(canvas_pixels(page, pixels.shape), moved)
    assert_answers(page, models, moved)

    page.click("button[aria-label='shift left']")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    wait_shown(page, 1, -1)
    assert_answers(page, models, shift(pixels, 1, -1))
    assert page.text_content(".offset") == "shift 1 right, -1 down"

    origin = server["url"].rstrip("/")
    assert page.requested and all(url.startswith(origin) for url in page.requested)


def test_a_picture_of_any_size_is_stretched_to_the_sets_size(page, models, tmp_path):
    colour = np.array([200, 30, 90], dtype=np.uint8)
    path = tmp_path / "wide.png"
    path.write_bytes(png(np.broadcast_to(colour, (120, 300, 3)).copy()))
    upload(page, path)
    wait_shown(page, 0, 0)
    expected = np.broadcast_to(colour, (32, 32, 3))
    np.testing.assert_array_equal(canvas_pixels(page, (32, 32, 3)), expected)
    assert_answers(page, models, expected)
    assert "wide.png, scaled to 32x32x3" in page.text_content("section.group .source")


def test_a_picture_dropped_on_the_page_is_answered_like_a_chosen_one(page, models):
    pixels = np.random.default_rng(9).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    dropped = page.evaluate_handle(
        """bytes => {
            const transfer = new DataTransfer();
            const file = new File([new Uint8Array(bytes)], "dropped.png", {type: "image/png"});
            transfer.items.add(file);
            return transfer;
        }""",
        list(png(pixels)),
    )
    page.dispatch_event("body", "drop", {"dataTransfer": dropped})
    wait_shown(page, 0, 0)
    assert_answers(page, models, pixels)
    assert "dropped.png" in page.text_content("section.group .source")


def test_a_random_test_image_shows_its_true_class(page, models, runs):
    from zoo.datasets import load_dataset

    page.click("section.group button.random")
    wait_shown(page, 0, 0)
    truth = page.text_content("section.group .truth")
    source = page.text_content("section.group .source")
    index = int(source.split("#", 1)[1].split(":", 1)[0])
    config = json.loads((runs["mlp"] / "config.json").read_text())
    data = load_dataset(config["dataset"], **config["dataset_options"])
    assert truth == f"true class: {data.class_names[data.y_test[index]]}"
    assert "test image" in source
    np.testing.assert_array_equal(canvas_pixels(page, (32, 32, 3)), data.x_test[index])
    assert_answers(page, models, data.x_test[index])
    page.keyboard.press("ArrowLeft")
    wait_shown(page, -1, 0)
    assert_answers(page, models, shift(data.x_test[index], -1, 0))
    assert page.locator("section.group li.true").count() == 2  # marked in both image cards


def test_refused_uploads_say_why_on_the_page_and_keep_the_picture(page, models, tmp_path):
    pixels = np.random.default_rng(8).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    good = tmp_path / "good.png"
    good.write_bytes(png(pixels))
    upload(page, good)
    wait_shown(page, 0, 0)

    text = tmp_path / "notes.png"  # named like a picture, but text inside
    text.write_text("these are my notes\n")
    upload(page, text)
    page.wait_for_selector("#message:not([hidden])")
    assert "not an image" in page.text_content("#message")

    big = tmp_path / "huge.png"
    big.write_bytes(png(pixels) + os.urandom(UPLOAD_LIMIT))
    upload(page, big)
    expect(page.locator("#message")).to_contain_text("up to 5.0 MB")
    page.keyboard.press("ArrowDown")  # the server still answers, for the picture kept
    wait_shown(page, 0, 1)
    assert_answers(page, models, shift(pixels, 0, 1))


def test_a_tabular_run_gets_a_form_with_one_field_per_feature(page, models):
    form = page.locator("section.tab[data-run='2']")
    assert form.locator("input").count() == 4
    form.locator("button", has_text="Random test example").click()
    page.wait_for_selector(".card[data-run='2'] li")
    values = [float(v) for v in form.locator("input").evaluate_all("i => i.map(e => e.value)")]
    expected = models["iris"].predict(np.array([values], dtype=np.float32), verbose=0)[0]
    got = shown(page, 2)
    for i, name in enumerate(["setosa", "versicolor", "virginica"]):
        assert abs(got[name] - expected[i]) <= TOLERANCE
    assert form.locator(".truth").text_content().startswith("true class: ")

    form.locator("input").first.fill("7.5")
    form.locator("button", has_text="Predict").click()
    values[0] = 7.5
    expected = models["iris"].predict(np.array([values], dtype=np.float32), verbose=0)[0]
    setosa = page.locator(".card[data-run='2'] li[data-class='setosa']")
    deadline = time.monotonic() + 30
    while abs(float(setosa.get_attribute("data-p")) - expected[0]) > TOLERANCE:
        assert time.monotonic() < deadline, "the form's answer did not change"
        time.sleep(0.1)


def test_the_page_opens_on_a_test_example_and_every_models_answer_without_a_click(page, tmp_path):
    # the page fixture has waited for the page to be ready, and clicked nothing
    for run in range(4):
        assert page.locator(f".card[data-run='{run}'] li").count() >= 2, run
    assert page.text_content("section.group .truth").startswith("true class: ")
    assert "test image #" in page.text_content("section.group .source")
    assert canvas_pixels(page, (32, 32, 3)).std() > 0  # a picture, not a black canvas
    assert page.get_by_text("No input yet.").count() == 0
    # the example and the answers came with the list of runs: the cards were never empty
    asked = [url for url in page.requested if "/api/random" in url or "/api/predict" in url]
    assert asked == []
    page.screenshot(path=str(tmp_path / "opened.png"), full_page=True)


def test_digits_are_drawn_as_their_8x8_picture_and_a_click_inks_a_pixel(page, models, tmp_path):
    section = page.locator("section.tab[data-run='3']")
    assert section.locator("input:visible").count() == 0  # no 64 bare number fields
    canvas = section.locator("canvas.pixels")
    box = canvas.bounding_box()
    assert abs(box["width"] - box["height"]) < 1 and box["width"] >= 8 * 20
    inputs = section.locator("input")
    before = [float(v) for v in inputs.evaluate_all("i => i.map(e => e.value)")]
    cell = box["width"] / 8
    canvas.click(position={"x": 3.5 * cell, "y": 2.5 * cell})  # row 2, column 3: feature 19
    after = [float(v) for v in inputs.evaluate_all("i => i.map(e => e.value)")]
    changed = [i for i in range(64) if before[i] != after[i]]
    assert changed == [19] and after[19] == (0.0 if before[19] >= 8 else 16.0)
    expected = models["digits"].predict(np.array([after], dtype=np.float32), verbose=0)[0]
    best = page.locator(".card[data-run='3'] li").first
    deadline = time.monotonic() + 30
    while abs(float(best.get_attribute("data-p")) - expected.max()) > TOLERANCE:
        assert time.monotonic() < deadline, "the answer did not follow the click"
        time.sleep(0.1)
    page.screenshot(path=str(tmp_path / "digits.png"), full_page=True)


# --- stopping ---------------------------------------------------------------------------------


def test_the_shift_controls_are_explained_and_run_names_wrap_whole(page, tmp_path):
    page.click("section.group button.random")
    wait_shown(page, 0, 0)
    expect(page.locator("section.group .explain")).to_contain_text("0 puts it back")
    assert page.get_attribute("section.group button.reset", "title").startswith("no shift")
    for title in page.locator(".card h3").all():
        # a run's name breaks at its hyphens, never inside the date or the time
        assert page.evaluate("e => getComputedStyle(e).wordBreak", title.element_handle()) != (
            "break-all"
        )
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_ctrl_c_stops_the_server_cleanly_with_130(server):
    process = server["process"]
    port = urlsplit(server["url"]).port
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    assert "stopped by SIGINT" in process.stderr.read()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
