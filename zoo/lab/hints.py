"""The next runs a lab report suggests, as commands that, pasted as printed, train the run a
question asks for: the base run's own model, classes, data folder, lab folder and training
settings, written out, with the one change the question is about. The report then pairs the
new run with the base (`zoo.lab.facts.pairs`).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from zoo.lab.facts import resolved_model_options
from zoo.lab.folder import RUNS
from zoo.runfolder import RunFolder

DEFAULT_TRAINING = {"mode": "minibatch", "optimizer": "sgd", "seed": 0, "normalize": "dataset"}
LINE = 72  # characters per line of a printed command
FLAG_ORDER = ("lr", "momentum", "batch_size", "epochs", "iterations")


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _model_flags(config: dict, changes: dict) -> list[str]:
    """The builder options that differ from the builder's defaults, as flags."""
    from zoo.models.registry import MODELS

    try:
        defaults = MODELS.options(str(config.get("model")))
    except Exception:
        defaults = {}
    resolved = resolved_model_options({**config, "head": None})
    base = resolved_model_options({"model": config.get("model")})
    flags: list[str] = []
    for key, value in resolved.items():
        if key in changes or key not in defaults or key == "augment":
            continue
        if value == base.get(key):
            continue
        if isinstance(value, bool):
            flags.append(_flag(key) if value else "--no-" + key.replace("_", "-"))
        else:
            flags += [_flag(key), _value(value)]
    return flags


def train_command(base: RunFolder, lab_folder: Path, comment: str, **changes: Any) -> str:
    """`zoo train ...` for the base run with `changes` (builder or training options, Python
    names; `iterations=` replaces the epochs), into the lab folder's runs/."""
    c = base.config
    words = ["zoo", "train", str(c.get("model"))]
    data = dict(c.get("dataset_options") or {})
    names = c.get("class_names") or []
    if c.get("class_ids") is not None and str(c.get("dataset", "")).startswith("cifar100"):
        words += ["cifar100", "--classes", ",".join(names)]
        if data.get("label") not in (None, "fine"):
            words += ["--label", str(data["label"])]
    else:
        words.append(str(c.get("dataset")))
    if data.get("data_dir"):
        words += ["--data-dir", str(data["data_dir"])]
    words += _model_flags(c, changes)
    training = {
        "lr": c.get("lr"),
        "momentum": c.get("momentum") or None,
        "batch_size": c.get("batch_size_asked") or c.get("batch_size"),
        "epochs": c.get("epochs"),
    }
    if "iterations" in changes:
        training.pop("epochs")
    for key, default in DEFAULT_TRAINING.items():
        if c.get(key) not in (None, default):
            training[key] = c[key]
    for key, value in changes.items():
        if key in training or key in FLAG_ORDER or key in DEFAULT_TRAINING:
            training[key] = value
    model_changes = {k: v for k, v in changes.items() if k not in training}
    for key, value in model_changes.items():
        if isinstance(value, bool):
            words.append(_flag(key) if value else "--no-" + key.replace("_", "-"))
        else:
            words += [_flag(key), _value(value)]
    for key, value in training.items():
        if value is not None:
            words += [_flag(key), _value(value)]
    words += ["--comment", comment, "--out", str(Path(lab_folder).resolve() / RUNS)]
    return shell_lines(words)


def shell_lines(words: list[str], width: int = LINE) -> str:
    """`words` quoted for a POSIX shell, in lines of at most `width` characters that end in
    a backslash: a command copied from the report's page runs as one command, however the
    page broke it (a word longer than a line stays whole)."""
    lines: list[str] = []
    line = ""
    for word in map(shlex.quote, words):
        if line and len(line) + 1 + len(word) > width - 2:
            lines.append(line + " \\")
            line = "  " + word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def one_line(command: str) -> str:
    """The command as the shell reads it: continuation lines joined."""
    return command.replace(" \\\n  ", " ")


def _hidden(base: RunFolder) -> tuple[int, ...]:
    return tuple(resolved_model_options(base.config).get("hidden") or ())


def lab1_hints(base: RunFolder, lab_folder: Path) -> dict[str, list[str]]:
    """One command per question of lab 1 that a new run answers (q3: batch size, q4: rate,
    q5: hidden layers)."""
    c = base.config
    batch = c.get("batch_size_asked") or c.get("batch_size") or 32
    other_batch = 512 if batch != 512 else 64
    lr = float(c.get("lr") or 0.01)
    hidden = (32,) if _hidden(base) != (32,) else (64,)
    return {
        "q3": [
            train_command(
                base,
                lab_folder,
                f"batch {other_batch}",
                batch_size=other_batch,
                iterations=c.get("iterations"),
            )  # fmt: skip
        ],
        "q4": [
            train_command(
                base, lab_folder, f"lr {lr / 2:g}", lr=lr / 2, epochs=2 * int(c.get("epochs") or 1)
            )
        ],
        "q5": [train_command(base, lab_folder, f"hidden {_value(hidden)}", hidden=hidden)],
    }


def lab2_hints(base: RunFolder, lab_folder: Path) -> dict[str, list[str]]:
    """Lab 2's: q3 other conv blocks, q5 other epochs, batch size and rate, q7 (which change
    helps) batch normalisation in the conv blocks."""
    c = base.config
    batch = c.get("batch_size_asked") or c.get("batch_size") or 32
    lr = float(c.get("lr") or 0.01)
    epochs = int(c.get("epochs") or 1)
    conv = train_command(
        base, lab_folder, "conv 32,64,64",
        conv=(32, 64, 64), kernel=3, stride=(2, 1, 1), padding="same", pool_size=(1, 1, 4),
    )  # fmt: skip
    other_batch = 64 if batch != 64 else 128
    training = [
        train_command(base, lab_folder, f"epochs {2 * epochs}", epochs=2 * epochs),
        train_command(base, lab_folder, f"batch {other_batch}", batch_size=other_batch),
        train_command(base, lab_folder, f"lr {2 * lr:g}", lr=2 * lr),
    ]
    # q7: a change the course suggests for higher accuracy, normalised conv activations
    normalised = train_command(base, lab_folder, "batch norm", batch_norm=True)
    return {"q3": [conv], "q5": training, "q7": [normalised]}
