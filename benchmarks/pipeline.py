"""Where a `zoo train` command spends its time and memory, phase by phase, on three data sets.

`digits` (scikit-learn's 8x8 digits), `cifar100-3class` (the lab: a full-size CIFAR-100
archive in the official layout) and `cifar10` (a full-size CIFAR-10 archive in the official
layout: 50,000 training and 10,000 test images) are trained by the `zoo train` command in
fresh processes; the archives are written by this script in a temporary folder (random
pixels), exactly as the official ones are laid out (tests/image_fixtures.py).

Phases (seconds), measured inside the command by wrapping the library's functions: import
(Keras and its backend, wherever it happens), load (the data set), normalisation (statistics
of the training set, `--normalize train` only), build (the model and the epoch runner, data
to the device), training (every epoch), evaluation (outputs and metrics after training),
writing (the run folder's data files and model), figures (built, and drawn and encoded where
the command's own process draws them: where it can, a second process draws them beside the
pages, and its time shows in the CPU row only), report (report.pdf's pages, and waiting for
a figure), and other (starting Python, the command line, importing the zoo and matplotlib).
Whole: the command's wall time seen from outside. CPU seconds: the command's process and its
children. Peak RSS: the largest resident memory of the process or of a child.

One untimed run of each command first fills the zoo's caches (the data set's subset, the
compiled epoch); every figure is then the median of `--repeats` runs (default 3).

    python benchmarks/pipeline.py              # about 6 minutes on 2 cores
    python benchmarks/pipeline.py --quick      # one run of each, few epochs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHASES = (
    "import",
    "load",
    "normalisation",
    "build",
    "training",
    "evaluation",
    "writing",
    "figures",
    "report",
    "other",
)
CIFAR10 = ["--hidden", "64", "--lr", "0.01", "--batch-size", "128", "--epochs", "5"]
RUNS = {  # column -> the arguments of `zoo train`
    "digits": ["mlp", "digits"],
    "cifar100-3class": ["mlp", "cifar100-3class"],
    "cifar10": ["mlp", "cifar10", *CIFAR10],
    "cifar10, --normalize train": ["mlp", "cifar10", *CIFAR10, "--normalize", "train"],
}
# (function, owner) wrapped for each phase; a phase's time is the sum of its functions' time
WRAPPED = {
    "load": [("zoo.training.plan", "RunPlan", "load")],
    "normalisation": [("zoo.training.build", None, "choose_normalization")],
    "build": [
        ("zoo.training.build", None, "build_model"),
        ("zoo.training.loops", None, "make_epoch_runner"),
    ],
    "training": [("zoo.training.driver", None, "drive")],
    "evaluation": [("zoo.training.results", None, "evaluate")],
    "writing": [("zoo.training.results", None, "write_results")],
    "figures": [
        ("zoo.reporting.pdf", None, "report_figures"),
        ("zoo.reporting.pdf", None, "render"),
    ],
    "report": [("zoo.reporting.pdf", None, "write_report")],
}

CHILD = r"""
import functools, importlib, importlib.abc, importlib.machinery, json, resource, sys, time
start = time.perf_counter()
out, argv = sys.argv[1], sys.argv[2:]
spent, stack = {}, []  # phase -> seconds of its own; the calls under way, innermost last
def timed_call(phase, function):
    @functools.wraps(function)
    def timed(*args, **kwargs):
        stack.append([phase, 0.0])  # [phase, seconds spent in wrapped calls inside it]
        begin = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - begin
            _, inner = stack.pop()
            spent[phase] = spent.get(phase, 0.0) + elapsed - inner
            if stack:
                stack[-1][1] += elapsed
    return timed
def wrap(phase, module, owner, name):
    target = module if owner is None else getattr(module, owner)
    setattr(target, name, timed_call(phase, getattr(target, name)))
# Each function is wrapped when its module is imported, so the command imports what it
# imports when it does (nothing is imported ahead for the measurement); importing Keras
# (with its backend) is the import phase, wherever it happens.
WANTED = {}
for phase, functions in json.loads(PHASES).items():
    for module, owner, name in functions:
        WANTED.setdefault(module, []).append((phase, owner, name))
class Wrapping(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in WANTED and name != "keras":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module
        def exec_module(module):
            if name == "keras":
                timed_call("import", execute)(module)
                return
            execute(module)
            for phase, owner, function in WANTED[name]:
                wrap(phase, module, owner, function)
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, Wrapping())
from zoo.cli import main
def record(code):
    total = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
    peak = max(usage.ru_maxrss, children.ru_maxrss) / 1024
    with open(out, "w") as f:
        json.dump({"spent": spent, "total": total, "cpu": cpu, "peak_mb": peak, "code": code}, f)
import os
leave = os._exit
def record_and_leave(code):  # the program skips Python's teardown: record first
    record(code)
    leave(code)
os._exit = record_and_leave
sys.argv = ["zoo", *argv]  # as the `zoo` program runs
try:
    main()
except SystemExit as err:
    record(err.code or 0)
"""


def child_code() -> str:
    """The child's code: each phase's own time (a wrapped call inside another, the figures
    inside the report, is counted by its own phase only)."""
    phases = {phase: [list(f) for f in functions] for phase, functions in WRAPPED.items()}
    return CHILD.replace("json.loads(PHASES)", f"json.loads({json.dumps(phases)!r})")


def run_command(argv: list[str], env: dict, work: Path) -> dict:
    """One command in a fresh process: the phases, its whole wall time, its peak RSS."""
    out = work / f"child-{time.time_ns()}.json"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", child_code(), str(out), *argv],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    whole = time.perf_counter() - start
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    result = json.loads(out.read_text())
    if result["code"]:
        raise SystemExit(f"{' '.join(argv)} exited {result['code']}:\n{done.stderr[-3000:]}")
    result["whole"] = whole
    return result


# -- archives ------------------------------------------------------------------------------------
def write_archives(folder: Path) -> None:
    """Full-size official-format CIFAR-100 and CIFAR-10 archives in `folder`."""
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import image_fixtures as fx
    from load_cifar import realistic_pixels, write_full_archive

    write_full_archive(folder)
    meta = {"num_cases_per_batch": 10000, "label_names": fx.CIFAR10_NAMES, "num_vis": 3072}
    path = folder / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=6) as tar:
        for number in (4, 3, 2, 5, 1, "test"):  # the official archive's order
            test = number == "test"
            labels = fx.cifar100_labels(1000, 10, seed=20 if test else 10 + number)
            name = "test_batch" if test else f"data_batch_{number}"
            label = "testing batch 1 of 1" if test else f"training batch {number} of 5"
            batch = {
                "batch_label": label,
                "labels": [int(v) for v in labels],
                "data": realistic_pixels(len(labels), seed=30 + (0 if test else number)),
                "filenames": [f"{fx.CIFAR10_NAMES[v]}_s_{i:06d}.png" for i, v in enumerate(labels)],
            }
            member = folder / name
            with open(member, "wb") as f:
                fx.py2_pickle(batch, f)
            tar.add(member, arcname=f"cifar-10-batches-py/{name}")
            member.unlink()
            if number == 1:
                fx.add_member(tar, "cifar-10-batches-py/readme.html", b"<html></html>")
        fx.add_member(tar, "cifar-10-batches-py/batches.meta", fx.py2_pickle(meta))


# -- the measurements ----------------------------------------------------------------------------
def measure(args, work: Path) -> tuple[dict, dict]:
    env = {**os.environ, "ZOO_CACHE": str(work / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("ZOO_DATA_DIR", None)
    data = work / "data"
    common = ["--data-dir", str(data), "--out", str(work / "runs"), "-q"]
    columns = {}
    for column, argv in RUNS.items():
        argv = ["train", *argv, *(common if "cifar" in column else common[2:])]
        if args.quick and "--epochs" not in argv:
            argv += ["--epochs", "5"]
        run_command(argv, env, work)  # fills the caches
        runs = [run_command(argv, env, work) for _ in range(args.repeats)]
        columns[column] = runs
        print(f"  {column:<28} {[round(r['whole'], 1) for r in runs]} s", file=sys.stderr)
    # the report alone, from the last CIFAR-10 run folder
    folder = max((work / "runs").glob("mlp-cifar10-*"), key=lambda p: p.stat().st_mtime)
    reports = [run_command(["report", str(folder)], env, work) for _ in range(args.repeats)]
    print(f"  {'zoo report':<28} {[round(r['whole'], 1) for r in reports]} s", file=sys.stderr)
    return columns, {"zoo report (cifar10 run folder)": reports}


def _median_phases(runs: list[dict]) -> dict:
    out = {}
    for phase in PHASES[:-1]:
        out[phase] = statistics.median(r["spent"].get(phase, 0.0) for r in runs)
    out["whole"] = statistics.median(r["whole"] for r in runs)
    out["other"] = max(0.0, out["whole"] - sum(out[p] for p in PHASES[:-1]))
    out["peak_mb"] = statistics.median(r["peak_mb"] for r in runs)
    out["cpu"] = statistics.median(r.get("cpu", float("nan")) for r in runs)
    return out


def table(columns: dict, reports: dict) -> str:
    medians = {name: _median_phases(runs) for name, runs in columns.items()}
    report = _median_phases(next(iter(reports.values())))
    names = [*medians, "zoo report (cifar10)"]
    lines = ["| phase, seconds | " + " | ".join(names) + " |", "|---" + "|---:" * len(names) + "|"]
    for phase in PHASES:
        cells = [f"{m[phase]:.2f}" for m in medians.values()]
        cells.append(f"{report[phase]:.2f}" if phase in ("figures", "report", "other") else "")
        lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    cells = [f"**{m['whole']:.1f}**" for m in medians.values()] + [f"**{report['whole']:.1f}**"]
    lines.append("| **whole command** | " + " | ".join(cells) + " |")
    cells = [f"{m['cpu']:.1f}" for m in medians.values()] + [f"{report['cpu']:.1f}"]
    lines.append("| CPU seconds (the command and its children) | " + " | ".join(cells) + " |")
    cells = [f"{m['peak_mb']:,.0f}" for m in medians.values()] + [f"{report['peak_mb']:,.0f}"]
    lines.append("| peak RSS, MB | " + " | ".join(cells) + " |")
    c10, c10n = medians["cifar10"], medians["cifar10, --normalize train"]
    # everything but the epochs, whose time the load of a shared machine moves most
    extra = (c10n["whole"] - c10n["training"]) - (c10["whole"] - c10["training"])
    checks = [
        (
            "CIFAR-10 whole command <= training + 9 s",
            c10["whole"] - c10["training"],
            9.0,
            f"training + {c10['whole'] - c10['training']:.1f} s",
        ),
        (
            "`--normalize train` <= 0.5 s extra (outside the epochs)",
            extra,
            0.5,
            f"{extra:+.2f} s (the statistics: {c10n['normalisation']:.2f} s)",
        ),
        (
            "`zoo report` on the CIFAR-10 folder < 3 s",
            report["whole"],
            3.0,
            f"{report['whole']:.1f} s",
        ),
        (
            "peak RSS < 1.4 GB (CIFAR-10)",
            max(c10["peak_mb"], c10n["peak_mb"]) / 1000,
            1.4,
            f"{max(c10['peak_mb'], c10n['peak_mb']):,.0f} MB",
        ),
    ]
    lines += ["", "| target | measured | |", "|---|---:|---|"]
    for text, value, limit, shown in checks:
        lines.append(f"| {text} | {shown} | {'met' if value <= limit else 'MISSED'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run each, 5 epochs")
    parser.add_argument("--keep", type=Path, help="folder for the archives (kept, reused)")
    parser.add_argument("--write-archives", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write_archives:
        write_archives(args.write_archives)
        return 0
    if args.quick:
        args.repeats = 1
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="zoo-pipeline-") as tmp:
        work = Path(tmp)
        data = work / "data"
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            data.symlink_to(args.keep.resolve())
        else:
            data.mkdir()
        if not (data / "cifar-10-python.tar.gz").exists():
            start = time.perf_counter()
            # a child writes them: Linux hands a parent's peak memory on to its children
            command = [sys.executable, __file__, "--write-archives", str(data)]
            subprocess.run(command, check=True)
            print(f"  archives written in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        columns, reports = measure(args, work)
    load_after = os.getloadavg()
    print(f"pipeline, {time.strftime('%Y-%m-%d')}: median of {args.repeats} runs each\n")
    print(
        f"Machine: {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; load average {load_before[0]:.1f} at the start, "
        f"{load_after[0]:.1f} at the end. CIFAR-10: `{' '.join(RUNS['cifar10'])}`; the others "
        "with their presets.\n"
    )
    print(table(columns, reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
