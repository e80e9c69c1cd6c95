"""Draw docs/serve.png: `zoo serve` on two image runs and a tabular one, in headless Chromium.

The runs are trained for seconds on the test suite's miniature CIFAR-100 archive (random
pixels), so the page's look is real and its answers mean little. Needs the `test` extra and
Debian's chromium: python docs/serve_screenshot.py
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FLAGS += ["--disable-component-update", "--disable-sync", "--no-first-run"]


def apple() -> bytes:
    """A 256x256 drawing of an apple: the page stretches it to 32x32."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (256, 256), (235, 240, 245))
    draw = ImageDraw.Draw(image)
    draw.ellipse((48, 70, 208, 226), fill=(200, 30, 40))
    draw.ellipse((80, 96, 120, 136), fill=(235, 120, 120))
    draw.rectangle((124, 36, 134, 80), fill=(90, 60, 30))
    draw.ellipse((136, 40, 190, 70), fill=(60, 150, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    from playwright.sync_api import sync_playwright
    from trained_runs import TRAIN, cifar_runs

    import zoo

    with tempfile.TemporaryDirectory() as tmp:
        runs = cifar_runs(Path(tmp))
        iris = zoo.train("mlp", "iris", **{**TRAIN, "epochs": 30, "out": Path(tmp) / "reports"})
        picture = Path(tmp) / "apple.png"
        picture.write_bytes(apple())
        command = [sys.executable, "-c", "from zoo.cli import main; main()", "serve"]
        server = subprocess.Popen(
            [*command, runs["mlp"], runs["cnn"], iris.folder, "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            url = next(line for line in server.stdout if "page is at " in line).split()[-3]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=FLAGS
                )
                page = browser.new_page(viewport={"width": 1200, "height": 820})
                page.goto(url)
                page.wait_for_selector("body[data-ready='1']")
                page.set_input_files("#file", str(picture))
                page.wait_for_selector("section.group[data-shown='0,0'][data-pending='0']")
                for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
                    page.keyboard.press(key)
                page.wait_for_selector("section.group[data-shown='2,1'][data-pending='0']")
                page.locator("section.tab button", has_text="Random test example").click()
                page.wait_for_selector(".card[data-run='2'] li")
                page.screenshot(path=str(ROOT / "docs" / "serve.png"), full_page=True)
                browser.close()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    print(ROOT / "docs" / "serve.png")


if __name__ == "__main__":
    main()
