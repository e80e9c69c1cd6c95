"""English words left in a Russian report: every Latin word of its text that is not a name
(of the run, its classes, layers, data set), code (options, files, commands) or a unit."""

from __future__ import annotations

import json
import re
from pathlib import Path

# code and units a Russian report rightly writes in Latin letters
TERMS = {
    "python", "tensorflow", "keras", "jax", "torch", "numpy", "zoo", "none", "cpu", "gpu", "tpu",
    "sgd", "adam", "adamw", "rmsprop", "adagrad", "relu", "sigmoid", "tanh", "softmax", "linear",
    "glorot", "he", "lecun", "mse", "mae", "mlp", "cnn", "fc", "fit", "dropout", "onnx", "litert",
    "dx", "dy", "pid", "nan", "inf", "cifar", "mnist", "iris", "digits", "gaussians", "moons",
    "json", "csv", "png", "pdf", "pt", "dpi", "max", "min", "same", "valid", "lr", "id", "os",
    "mod", "onnxruntime", "tflite", "saved", "model",
}  # fmt: skip
FILE = re.compile(r"[\w./-]+\.(?:csv|json|keras|png|pdf|txt|npz|onnx|toml|md|tex|svg|py)\b")
PATH = re.compile(r"\S*/\S*")  # a folder's path is a name
COMMAND = re.compile(r"(?:python -m )?zoo [a-z]+\b[^\n]*")
ASSIGNMENT = re.compile(r"\b\w+='[^'\n]*'")  # an option as Python writes it: source='local'
WORD = re.compile(r"[A-Za-z][A-Za-z]+")
CODE = re.compile(r"[A-Z]?[a-z]+(?:[A-Z][a-z0-9]*)+|[A-Z][A-Z0-9]+")  # EarlyStopping, SIGINT


SENTENCES = ("stop_reason", "status")  # said in words by the report, not quoted


def names_in(value, found: set[str]) -> set[str]:
    """Every word of the strings and keys in a JSON value, lower-cased, but for the English
    sentences and words the report must translate (`SENTENCES`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            names_in(key, found)
            if key not in SENTENCES:
                names_in(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            names_in(item, found)
    elif isinstance(value, str):
        found.update(word.lower() for word in WORD.findall(value))
    return found


def run_names(*folders: Path) -> set[str]:
    """The names a report may quote from its runs' config.json files (and their folders)."""
    found: set[str] = set()
    for folder in folders:
        for config in Path(folder).rglob("config.json"):
            names_in(json.loads(config.read_text(encoding="utf-8")), found)
            names_in(config.parent.name, found)
        names_in(str(folder), found)
    return found


def english_words(text: str, names: set[str] = frozenset()) -> list[str]:
    """The Latin words of `text` outside file names, commands, `names` and `TERMS`, each with
    a few words around it."""
    text = COMMAND.sub(" ", FILE.sub(" ", PATH.sub(" ", ASSIGNMENT.sub(" ", text))))
    text = re.sub(r"--[\w-]+", " ", text)
    allowed = TERMS | {name.lower() for name in names}
    found = []
    for match in WORD.finditer(text):
        word = match.group()
        if word.lower() in allowed or CODE.fullmatch(word):
            continue
        found.append(text[max(0, match.start() - 30) : match.end() + 30].replace("\n", " "))
    return found
