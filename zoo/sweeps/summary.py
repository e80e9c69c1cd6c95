"""The sweep's final table: one row per configuration, each metric as mean ± sd over seeds.

Read from the run folders alone (so `zoo compare SWEEP` rebuilds it), written as summary.md,
summary.csv (numbers unformatted) and summary.tex. The best configuration is marked: the
highest mean test accuracy (ties: the lower test loss), or the lowest test loss for a
regression.

    | # | hidden | train accuracy  | test accuracy   | ... | runs |
    | 3*| 32     | 0.9990 ± 0.0010 | 0.9611 ± 0.0042 | ... | 3/3  |
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.errors import RunFolderError
from zoo.i18n import status_word, t
from zoo.runfolder import RunFolder, read_run_folder
from zoo.runfolder.format import FINISHED
from zoo.sweeps.folder import RUNS
from zoo.sweeps.spec import Configuration, SweepSpec, flag_name, value_text

DASH = "—"


@dataclass
class Outcome:
    """One planned run as its folder tells it ("not_run" when there is none yet)."""

    name: str
    seed: int
    status: str
    reason: str | None = None
    run: RunFolder | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@dataclass
class Stat:
    """Mean and sample standard deviation of a metric over the finished seeds."""

    values: list[float]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return sum(self.values) / self.n if self.values else None

    @property
    def sd(self) -> float | None:
        if self.n < 2:
            return None
        mean = self.mean
        return math.sqrt(sum((v - mean) ** 2 for v in self.values) / (self.n - 1))

    def text(self, digits: int = 4) -> str:
        """ "0.9533 ± 0.0042"; one seed: "0.9533"; none: "—"."""
        if self.mean is None:
            return DASH
        if self.sd is None:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.sd:.{digits}f}"


@dataclass
class Row:
    """A configuration, its runs, and its statistics."""

    configuration: Configuration
    outcomes: list[Outcome]
    stats: dict[str, Stat] = field(default_factory=dict)
    best: bool = False

    @property
    def finished(self) -> int:
        return sum(o.finished for o in self.outcomes)

    @property
    def runs(self) -> list[RunFolder]:
        """The run folders of its finished runs."""
        return [o.run for o in self.outcomes if o.finished and o.run is not None]


@dataclass
class SweepSummary:
    """Every configuration of a sweep with what its runs gave."""

    folder: Path
    spec: SweepSpec
    rows: list[Row]
    task: str  # "classification" or "regression"

    @property
    def metrics(self) -> tuple[str, str]:
        """The two metrics of the table: accuracy and loss, or R² and loss for a regression."""
        return ("accuracy", "loss") if self.task == "classification" else ("r2", "loss")

    @property
    def stat_keys(self) -> list[str]:
        keys = [f"{split}_{m}" for m in self.metrics for split in ("train", "test")]
        return keys + ["best_epoch", "train_seconds"]

    @property
    def swept(self) -> list[str]:
        return self.spec.swept()

    @property
    def best(self) -> Row | None:
        return next((row for row in self.rows if row.best), None)

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for row in self.rows for o in row.outcomes]

    def unfinished(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.finished]

    def cells(self, row: Row) -> dict[str, str]:
        """A row's cells as text, keyed like `header`."""
        conf = row.configuration
        out = {"number": f"{conf.number}*" if row.best else str(conf.number)}
        for name in self.swept:
            out[name] = value_text(conf.values[name]) if name in conf.values else DASH
        for key in self.stat_keys:
            digits = 1 if key in ("best_epoch", "train_seconds") else 4
            out[key] = row.stats[key].text(digits)
        out["runs"] = f"{row.finished}/{len(row.outcomes)}"
        return out

    def header(self, lang: str = "en") -> dict[str, str]:
        head = {"number": "#"}
        head.update({name: flag_name(name) for name in self.swept})
        head.update({key: t(f"sweep.col.{key}", lang) for key in self.stat_keys})
        head["runs"] = t("sweep.col.runs", lang)
        return head

    def best_note(self, lang: str = "en") -> str:
        if self.best is None:
            return ""
        key = "accuracy" if self.task == "classification" else "loss"
        return t(f"sweep.best.{key}", lang)

    def setting_text(self, lang: str = "en") -> str:
        """ "mlp on digits; every run: epochs = 20; seeds 0, 1, 2." """
        spec = self.spec
        common = ", ".join(f"{flag_name(k)} = {value_text(v)}" for k, v in spec.options.items())
        return t(
            "sweep.setting",
            lang,
            model=spec.model,
            dataset=spec.dataset,
            options=common or DASH,
            seeds=", ".join(str(s) for s in spec.seeds),
        )

    # -- the three formats -------------------------------------------------------------------
    def markdown(self, lang: str = "en") -> str:
        def line(cells):
            return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

        head = self.header(lang)
        lines = [f"# {self.title(lang)}", "", self.setting_text(lang), ""]
        lines += [line(head.values()), "|" + "|".join("---" for _ in head) + "|"]
        lines += [line(self.cells(row).values()) for row in self.rows]
        lines.append("")
        lines.append(t("sweep.mean_sd", lang, n=len(self.spec.seeds)))
        if self.best_note(lang):
            lines.append(self.best_note(lang))
        unfinished = self.unfinished()
        if unfinished:
            lines += ["", f"## {t('sweep.unfinished', lang)}", ""]
            lines += [f"- {o.name}: {self.status_text(o, lang)}" for o in unfinished]
        return "\n".join(lines) + "\n"

    def status_text(self, outcome: Outcome, lang: str = "en") -> str:
        if outcome.status == "not_run":
            return t("sweep.not_run", lang)
        word = status_word(outcome.status, lang)
        if outcome.status in ("failed", "killed"):
            word = t(f"sweep.status.{outcome.status}", lang)
        return f"{word}: {outcome.reason}" if outcome.reason else word

    def title(self, lang: str = "en") -> str:
        return t("sweep.title", lang, model=self.spec.model, dataset=self.spec.dataset)

    def csv_text(self) -> str:
        """Numbers unformatted, one column per statistic's mean and sd: for scripts."""
        fields = ["number", *self.swept]
        for key in self.stat_keys:
            fields += [f"{key}_mean", f"{key}_sd"]
        fields += ["finished", "seeds", "best", "runs"]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            conf = row.configuration
            record: dict[str, Any] = {"number": conf.number}
            for name in self.swept:
                record[name] = value_text(conf.values[name]) if name in conf.values else ""
            for key in self.stat_keys:
                stat = row.stats[key]
                record[f"{key}_mean"] = "" if stat.mean is None else repr(stat.mean)
                record[f"{key}_sd"] = "" if stat.sd is None else repr(stat.sd)
            record.update(
                finished=row.finished,
                seeds=len(row.outcomes),
                best=int(row.best),
                runs=";".join(o.name for o in row.outcomes),
            )
            writer.writerow(record)
        return buffer.getvalue()


def _number(report: dict | None, key: str) -> float | None:
    value = (report or {}).get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _outcome(folder: Path, name: str, seed: int, known: dict[str, tuple[str, str]]) -> Outcome:
    path = folder / RUNS / name
    if not path.is_dir():
        status, reason = known.get(name, ("not_run", None))
        return Outcome(name, seed, status, reason)
    try:
        run = read_run_folder(path)
    except RunFolderError as err:
        return Outcome(name, seed, "failed", str(err))
    return Outcome(name, seed, run.status, run.config.get("stop_reason"), run)


def summarize(
    folder: str | Path, spec: SweepSpec, known: dict[str, tuple[str, str]] | None = None
) -> SweepSummary:
    """The summary of the sweep in `folder` as its run folders are now.

    `known`: (status, reason) of runs that failed before their folder was made.
    """
    folder = Path(folder)
    known = known or {}
    by_conf: dict[int, list[Outcome]] = {}
    confs: dict[int, Configuration] = {}
    for planned in spec.runs():
        conf = planned.configuration
        confs[conf.number] = conf
        outcome = _outcome(folder, planned.name, planned.seed, known)
        by_conf.setdefault(conf.number, []).append(outcome)
    task = "classification"
    for outcomes in by_conf.values():
        for o in outcomes:
            if o.run is not None:
                task = o.run.task
                break
    summary = SweepSummary(folder, spec, [], task)
    for number, outcomes in by_conf.items():
        row = Row(confs[number], outcomes)
        finished = row.runs
        for key in summary.stat_keys:
            values = []
            for run in finished:
                if key == "best_epoch":
                    value = run.best_epoch
                elif key == "train_seconds":
                    value = run.config.get("train_seconds")
                else:
                    split, metric = key.split("_", 1)
                    value = _number(run.report(split), metric)
                if isinstance(value, int | float) and math.isfinite(value):
                    values.append(float(value))
            row.stats[key] = Stat(values)
        summary.rows.append(row)
    _mark_best(summary)
    return summary


def _mark_best(summary: SweepSummary) -> None:
    def key(row: Row):
        loss = row.stats["test_loss"].mean
        loss = math.inf if loss is None else loss
        if summary.task == "classification":
            acc = row.stats["test_accuracy"].mean
            return (-(acc if acc is not None else -math.inf), loss)
        return (loss,)

    candidates = [row for row in summary.rows if row.finished]
    if len(summary.rows) > 1 and candidates:
        min(candidates, key=key).best = True
