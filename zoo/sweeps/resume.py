"""A resumed sweep keeps a finished run only if it was trained with the options planned now.

`zoo sweep FOLDER` reads FOLDER/sweep.toml; if it was edited since the runs were trained
(`epochs = 20` where it said 10, a model option, a data set's option), a finished run's folder
answers another question than its name says. Each option the spec sets for a run is compared
with what the run's config.json recorded; any difference refuses the resume (exit 2) naming the
run, the option and both values: the sweep never deletes a finished run to retrain it.
An option taken out of the spec (or added to it) is told by config.json's `options_given`,
the names the run was given: its default may be a data set's preset, unknown before the
data set is loaded, so a run given an option the spec no longer gives is refused as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zoo.errors import OptionError
from zoo.files import read_json
from zoo.runfolder import CONFIG

# training options config.json keeps under another key
RECORDED_AS = {"batch_size": "batch_size_asked", "iterations": "iterations_asked"}
# options that name, describe or place a run, or say where it trains: not what it learns
NOT_COMPARED = {
    "author",
    "comment",
    "device",
    "group",
    "lang",
    "live",
    "on_epoch",
    "out",
    "quiet",
    "report",
    "run_name",
    "title",
    "variant",
}


class _NotGiven:
    """The value of an option a run was not given, or the spec no longer gives."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()


def option_differences(
    config: dict, options: dict[str, Any], model: str, dataset: str
) -> list[tuple[str, Any, Any]]:
    """(option, value in config.json, value planned) for each option of `options` (a run's
    options in the library's spelling, its seed included) that the run was not trained with.
    Where config.json lists the options the run was given (`options_given`), one given then
    and not now is planned NOT_GIVEN, and one given now whose value config.json does not
    record was NOT_GIVEN; otherwise an option config.json does not record is not compared."""
    found = _value_differences(config, options, model, dataset)
    before = config.get("options_given")
    if not isinstance(before, list):  # a run trained before the zoo recorded them
        return found
    before = {name for name in before if isinstance(name, str)} - NOT_COMPARED
    now = {name for name, value in options.items() if value is not None} - NOT_COMPARED
    for name in sorted(before - now):
        found.append((name, _recorded(config, name, model, dataset), NOT_GIVEN))
    for name in sorted(now - before):
        if _recorded(config, name, model, dataset) is NOT_GIVEN:
            found.append((name, NOT_GIVEN, options[name]))
    return found


def _recorded(config: dict, name: str, model: str, dataset: str) -> Any:
    """The value config.json records for option `name` (library spelling), or NOT_GIVEN."""
    from zoo.training.plan import split_options

    if name == "data_seed":
        table, key = config.get("dataset_options"), "seed"
    else:
        train, model_opts, data_opts = split_options(model, dataset, {name: None})
        if not (train or model_opts or data_opts):  # no longer an option: only its name is left
            return NOT_GIVEN
        if train:
            key = RECORDED_AS.get(name, name)
            return config[key] if key in config else NOT_GIVEN
        table = config.get("model_options" if model_opts else "dataset_options")
        key = name
    return table[key] if isinstance(table, dict) and key in table else NOT_GIVEN


def _value_differences(
    config: dict, options: dict[str, Any], model: str, dataset: str
) -> list[tuple[str, Any, Any]]:
    from zoo.training.plan import resolve, split_options

    options = dict(options)
    plan = resolve(model, dataset, **options)  # the canonical spelling, as the trainer records
    options.pop("data_seed", None)
    train_opts = split_options(model, dataset, options)[0]
    opts, model_opts, data_opts = plan.training, plan.model_options, plan.data_options
    found = []
    for name in train_opts:
        if name in NOT_COMPARED:
            continue
        key = RECORDED_AS.get(name, name)
        planned = getattr(opts, name)
        if name == "loss":  # recorded by its canonical name (cce: crossentropy)
            from zoo.objective import LOSS_ALIASES

            planned = LOSS_ALIASES.get(planned, planned)
        if key in config and not _same(planned, config[key]):
            found.append((name, config[key], planned))
    for table, given in (("model_options", model_opts), ("dataset_options", data_opts)):
        recorded = config.get(table)
        if not isinstance(recorded, dict):
            continue
        for name, value in given.items():
            shown = "data_seed" if table == "dataset_options" and name == "seed" else name
            if name in recorded and not _same(value, recorded[name]):
                found.append((shown, recorded[name], value))
    return found


def check_finished_runs(runs: Path, planned: Iterable, model: str, dataset: str) -> None:
    """OptionError naming the first finished run among `planned` (PlannedRun) whose config.json
    disagrees with the options the spec plans for it now."""
    for run in planned:
        try:
            config = read_json(runs / run.name / CONFIG)
        except (OSError, ValueError):
            continue
        if not isinstance(config, dict):
            continue
        options = {**run.configuration.options, "seed": run.seed}
        changed = option_differences(config, options, model, dataset)
        if changed:
            name, was, now = changed[0]
            more = f" (and {len(changed) - 1} more option(s))" if len(changed) > 1 else ""
            asked = (
                f"leaves {name} not given" if now is NOT_GIVEN else f"asks for {_set(name, now)}"
            )
            raise OptionError(
                "out",
                f"run {run.name!r} was trained with {_set(name, was)}, but sweep.toml now "
                f"{asked}{more}: put sweep.toml back, or move that run folder away to train "
                "it again, or give the edited sweep another folder",
            )


def _same(planned: Any, recorded: Any) -> bool:
    """Equal as config.json keeps values: a tuple as a list, a lone value as a one-item list
    (`hidden=5` is recorded [5]), 1 and 1.0 alike, text whatever its case and spaces."""
    if isinstance(planned, tuple | list):
        if not isinstance(recorded, list) or len(recorded) != len(planned):
            return False
        return all(_same(p, r) for p, r in zip(planned, recorded, strict=True))
    if isinstance(planned, str) and isinstance(recorded, list) and "," in planned:
        return _same(planned.split(","), recorded)  # padding="same,valid" is recorded a list
    if isinstance(recorded, list) and len(recorded) == 1:
        return _same(planned, recorded[0])
    if isinstance(planned, str) and isinstance(recorded, str):  # "SAME " is recorded "same"
        return planned.strip().lower() == recorded.strip().lower()
    if isinstance(planned, bool) or isinstance(recorded, bool):
        return planned is recorded
    if isinstance(planned, int | float) and isinstance(recorded, int | float):
        return math.isclose(planned, recorded, rel_tol=1e-12, abs_tol=0.0)
    return planned == recorded


def _set(name: str, value: Any) -> str:
    """`lr=0.1`, or `lr not given`."""
    return f"{name} not given" if value is NOT_GIVEN else f"{name}={_text(value)}"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return "none" if value is None else str(value)
