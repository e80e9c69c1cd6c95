"""What the notebook's live display costs: `zoo.train` in a real Jupyter kernel, live or not.

Two runs, each trained with `live=False` and with `live=True` in turn, in one kernel:

- digits: `zoo.train("mlp", "digits")` as the README runs it (200 epochs of 1,347 examples);
- lab: the lab's configuration on CIFAR-size data (1,500 random 32x32x3 uint8 images in 3
  classes, FC(10), batch 128, lr 0.005, 250 epochs).

Printed per run: the median wall time of `train` without and with the display, their ratio,
and, from the display itself, the seconds it spent drawing and publishing against the
training time (the budget it keeps to, 5%) and how many times it drew the figure.

    python benchmarks/live_display.py              # 3 repeats
    python benchmarks/live_display.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SETUP = """
import json, time
import numpy as np
import zoo
from zoo.datasets import Dataset
from zoo.notebook import live

spent = []  # what each display reports when it closes
closing = live.LiveDisplay.close
def recording_close(self):
    closing(self)
    spent.append({"spent": self.budget.spent, "train": self.train_seconds,
                  "figures": self.figures, "costs": self.figure_seconds})
live.LiveDisplay.close = recording_close

rng = np.random.default_rng(0)
y = np.repeat(np.arange(3), 500)
x = rng.integers(0, 256, (1500, 32, 32, 3), dtype=np.uint8)
x[..., 0] = np.clip(x[..., 0] * 0.5 + 60 * y[:, None, None], 0, 255)  # something to learn
lab = Dataset("lab-size", x, y, x[::5], y[::5], class_names=["a", "b", "c"])
RUNS = {
    "digits": lambda live: zoo.train("mlp", "digits", out=None, live=live),
    "lab": lambda live: zoo.train("mlp", lab, hidden=10, lr=0.005, batch_size=128,
                                  epochs=250, out=None, live=live),
}
results = []
"""

REPEAT = """
for name, train in RUNS.items():
    for shown in (False, True):
        start = time.perf_counter()
        train(shown)
        seconds = time.perf_counter() - start
        results.append({"run": name, "live": shown, "seconds": seconds,
                        **(spent.pop() if shown else {})})
"""

REPORT = 'print("RESULTS " + json.dumps(results))'


def main() -> None:
    import nbformat
    from nbclient import NotebookClient

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cells = [SETUP] + [REPEAT] * args.repeats + [REPORT]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.getenv("PYTHONPATH")]))
    NotebookClient(nb, timeout=3600, kernel_name="python3").execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    results = json.loads(text.split("RESULTS ", 1)[1])
    print(
        f"{'run':<8}{'plain s':>9}{'live s':>9}{'ratio':>8}{'drawing s':>11}{'train s':>9}"
        f"{'share':>8}{'figures':>9}"
    )
    for name in dict.fromkeys(r["run"] for r in results):
        plain = [r["seconds"] for r in results if r["run"] == name and not r["live"]]
        shown = [r for r in results if r["run"] == name and r["live"]]
        median = statistics.median
        live_s = median(r["seconds"] for r in shown)
        drawing = median(r["spent"] for r in shown)
        train = median(r["train"] for r in shown)
        print(
            f"{name:<8}{median(plain):>9.2f}{live_s:>9.2f}{live_s / median(plain):>8.3f}"
            f"{drawing:>11.3f}{train:>9.2f}{median(r['spent'] / r['train'] for r in shown):>8.3f}"
            f"{median(r['figures'] for r in shown):>9.0f}"
        )
    for r in results:
        if r["live"]:
            print(r["run"], "figure seconds:", " ".join(f"{c:.3f}" for c in r["costs"]))
    print(f"median of {args.repeats} repeats; share = drawing / training time (budget 0.05)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
