"""Run folders in the exact format `zoo train` writes (notes: run folder format), small and fast.

`make_run_folder(tmp_path, "image")` writes config.json, history.csv, metrics.json,
classification_report.txt, predictions.npz and data.npz for a 3-class 8x8x3 image set
(the lab's classes apple, otter, pickup_truck); "points" is a 2-D 3-class set, "regression" a
1-D regression, "tabular" a 4-feature classification. `with_model=True` also saves a real
(untrained) model.keras, which imports TensorFlow.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CLASSES = {
    "image": (["apple", "otter", "pickup_truck"], [0, 55, 58]),
    "points": (["class_a", "class_b", "class_c"], None),
    "tabular": (["setosa", "versicolor", "virginica"], None),
}
SHAPES = {"image": [8, 8, 3], "points": [2], "tabular": [4], "regression": [1]}


def _dense(name, inputs, units, activation, use_bias=True):
    biases = units if use_bias else 0
    return {
        "name": name,
        "type": "Dense",
        "output_shape": [None, units],
        "params": inputs * units + biases,
        "units": units,
        "inputs": inputs,
        "weights": inputs * units,
        "biases": biases,
        "activation": activation,
    }


def _layers(kind: str, hidden: list[int], units: int, head: str) -> list[dict]:
    inputs = int(np.prod(SHAPES[kind]))
    layers = []
    if kind == "image":
        flat = {"name": "flatten", "type": "Flatten", "output_shape": [None, inputs], "params": 0}
        layers.append(flat)
    for i, size in enumerate(hidden, start=1):
        layers.append(_dense(f"hidden_{i}", inputs, size, "relu"))
        inputs = size
    layers.append(_dense("output", inputs, units, head))
    return layers


def _history(epochs: int, regression: bool, diverge: bool) -> str:
    lines = ["epoch,iterations,loss,accuracy,val_loss,val_accuracy,lr,seconds"]
    best = max(1, epochs // 2)  # test loss is lowest here, then rises: overfitting
    for e in range(1, epochs + 1):
        loss = 1.1 * 0.8**e
        val = 0.9 * 0.85 ** min(e, best) + 0.03 * max(0, e - best)
        acc = "" if regression else f"{min(0.99, 0.4 + 0.08 * e):.6f}"
        val_acc = "" if regression else f"{min(0.9, 0.38 + 0.06 * min(e, best)):.6f}"
        if diverge and e == epochs:
            loss, val, acc, val_acc = "nan", "nan", acc and "0.333333", val_acc and "0.333333"
        lines.append(f"{e},{e * 12},{loss},{acc},{val},{val_acc},0.005,0.05")
    return "\n".join(lines) + "\n"


def _classification(rng, class_names, n_train, n_test, train_acc, test_acc):
    from sklearn.metrics import classification_report, confusion_matrix

    k = len(class_names)
    out = {}
    reports = {}
    text = []
    for split, n, acc in (("train", n_train, train_acc), ("test", n_test, test_acc)):
        y = np.arange(n) % k
        pred = y.copy()
        wrong = rng.choice(n, size=int(round(n * (1 - acc))), replace=False)
        pred[wrong] = (y[wrong] + 1 + rng.integers(0, k - 1, size=wrong.size)) % k
        p = rng.dirichlet(np.ones(k), size=n).astype("float32")
        p[np.arange(n), pred] += 2.0
        p /= p.sum(axis=1, keepdims=True)
        out[f"y_{split}"], out[f"pred_{split}"], out[f"p_{split}"] = y, pred, p
        labels = list(range(k))
        report = classification_report(
            y, pred, labels=labels, target_names=class_names, output_dict=True, zero_division=0
        )
        report["confusion_matrix"] = confusion_matrix(y, pred, labels=labels).tolist()
        report["loss"] = float(0.3 + (1 - acc))
        reports[split] = report
        text.append(
            split.capitalize()
            + "\n"
            + classification_report(
                y, pred, labels=labels, target_names=class_names, digits=4, zero_division=0
            )
        )
    return out, reports, "\n".join(text)


def make_run_folder(
    root: str | Path,
    kind: str = "image",
    *,
    name: str | None = None,
    status: str = "completed",
    epochs: int = 6,
    hidden: tuple[int, ...] = (10,),
    lr: float = 0.005,
    batch_size: int = 128,
    mode: str = "minibatch",
    comment: str | None = "base variant",
    train_acc: float = 0.9,
    test_acc: float = 0.7,
    with_model: bool = False,
    drop: tuple[str, ...] = (),
    seed: int = 0,
    **config: object,
) -> Path:
    """Write a run folder under `root` and return its path. `drop` lists files to leave out."""
    rng = np.random.default_rng(seed)
    regression = kind == "regression"
    class_names, class_ids = CLASSES.get(kind, ([], None))
    k = len(class_names)
    n_train, n_test = (60, 30) if kind != "image" else (45, 15)
    head = "linear" if regression else "softmax"
    units = 1 if regression else k
    folder = Path(root) / (name or f"mlp-{kind}-20261127-101500")
    folder.mkdir(parents=True)
    diverged = status == "diverged"
    epochs_run = max(2, epochs // 2) if status in ("diverged", "interrupted") else epochs
    steps = 1 if mode == "batch" else (n_train if mode == "sample" else -(-n_train // batch_size))
    cfg = {
        "model": "mlp",
        "dataset": {"image": "cifar100-3class", "points": "gaussians"}.get(kind, kind),
        "model_options": {"hidden": list(hidden), "activation": "relu", "head": head},
        "dataset_options": {"seed": 0},
        "task": "regression" if regression else "classification",
        "class_names": class_names,
        "class_ids": class_ids,
        "input_shape": SHAPES[kind],
        "num_classes": 1 if regression else k,
        "train_size": n_train,
        "test_size": n_test,
        "validation_size": 0,
        "normalization": {
            "mean": [0.5074, 0.4867, 0.4411],
            "std": [0.2011, 0.1987, 0.2025],
            "scale": 1 / 255,
        }
        if kind == "image"
        else None,
        "mode": mode,
        "batch_size": {"batch": n_train, "sample": 1}.get(mode, batch_size),
        "steps_per_epoch": steps,
        "epochs": epochs,
        "epochs_run": epochs_run,
        "iterations": epochs_run * steps,
        "optimizer": "sgd",
        "lr": lr,
        "momentum": 0.0,
        "nesterov": False,
        "weight_decay": 0.0,
        "clip_norm": None,
        "lr_schedule": "constant",
        "lr_decay": None,
        "lr_step": None,
        "warmup": None,
        "loss": "mse" if regression else "crossentropy",
        "head": head,
        "seed": seed,
        "patience": None,
        "target_loss": None,
        "validation": None,
        "status": status,
        "stop_reason": "loss became NaN" if diverged else None,
        "diverged_epoch": epochs_run if diverged else None,
        "device": "CPU",
        "backend": "tensorflow",
        "versions": {"python": "3.12.3", "tensorflow": "2.21.0", "keras": "3.15.0", "zoo": "0.1.0"},
        "comment": comment,
        "author": None,
        "group": None,
        "variant": None,
        "title": None,
        "created": "2026-11-27T10:15:00",
        "train_seconds": 1.5,
        "layers": _layers(kind, list(hidden), units, head),
    }
    cfg.update(config)
    files: dict[str, object] = {"config.json": cfg}
    files["history.csv"] = _history(epochs_run, regression, diverged)

    if regression:
        x_train = rng.uniform(-3, 3, size=(n_train, 1)).astype("float32")
        x_test = rng.uniform(-3, 3, size=(n_test, 1)).astype("float32")
        y_train = np.tanh(x_train[:, 0]).astype("float32")
        y_test = np.tanh(x_test[:, 0]).astype("float32")
        p_train, p_test = (y + 0.1 * rng.normal(size=y.shape) for y in (y_train, y_test))
        preds = {
            "y_train": y_train,
            "y_test": y_test,
            "p_train": p_train[:, None].astype("float32"),
            "p_test": p_test[:, None].astype("float32"),
            "pred_train": p_train,
            "pred_test": p_test,
        }
        metrics = {}
        for split, y, p in (("train", y_train, p_train), ("test", y_test, p_test)):
            mse = float(np.mean((y - p) ** 2))
            r2 = 1 - mse / float(np.var(y))
            metrics[split] = {
                "mse": mse,
                "mae": float(np.mean(np.abs(y - p))),
                "r2": r2,
                "loss": mse,
            }
        files["data.npz"] = dict(x_train=x_train, x_test=x_test, y_train=y_train, y_test=y_test)
    else:
        preds, metrics, report_text = _classification(
            rng, class_names, n_train, n_test, train_acc, test_acc
        )
        files["classification_report.txt"] = report_text
        if kind == "points":
            centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
            data = {}
            for split in ("train", "test"):
                y = preds[f"y_{split}"]
                data[f"x_{split}"] = (centres[y] + rng.normal(size=(y.size, 2))).astype("float32")
                data[f"y_{split}"] = y
            files["data.npz"] = data
        elif kind == "image":
            sample_y = np.repeat(np.arange(k), 4)
            miss = np.flatnonzero(preds["y_test"] != preds["pred_test"])
            conf = preds["p_test"][miss].max(axis=1)
            order = np.argsort(-conf)[:16]
            files["data.npz"] = {
                "sample_x": rng.integers(0, 256, size=(sample_y.size, 8, 8, 3), dtype=np.uint8),
                "sample_y": sample_y,
                "miss_x": rng.integers(0, 256, size=(order.size, 8, 8, 3), dtype=np.uint8),
                "miss_true": preds["y_test"][miss][order],
                "miss_pred": preds["pred_test"][miss][order],
                "miss_conf": conf[order].astype("float32"),
            }
    files["predictions.npz"] = preds
    files["metrics.json"] = {
        "train": metrics["train"],
        "test": metrics["test"],
        "best_epoch": max(1, epochs // 2),
        "status": status,
    }

    for filename, content in files.items():
        if filename in drop:
            continue
        path = folder / filename
        if filename.endswith(".json"):
            path.write_text(json.dumps(content, indent=2), encoding="utf-8")
        elif filename.endswith(".npz"):
            np.savez(path, **content)
        else:
            path.write_text(str(content), encoding="utf-8")
    if with_model and "model.keras" not in drop:
        _save_model(folder / "model.keras", cfg)
    return folder


def _save_model(path: Path, cfg: dict) -> None:
    """A real, untrained model of the config's architecture (imports TensorFlow)."""
    from zoo import create_model

    model = create_model(
        cfg["model"],
        input_shape=cfg["input_shape"],
        num_classes=cfg["num_classes"],
        hidden=tuple(cfg["model_options"]["hidden"]),
        head=cfg["head"],
        normalization=cfg["normalization"],
    )
    model.save(path)
