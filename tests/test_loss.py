"""One loss per fact: history.csv, metrics.json and the report state the same test loss."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import image_fixtures as fx
import numpy as np
import pytest

import zoo
from zoo.objective import Objective


def test_a_confident_wrong_answer_costs_its_true_cross_entropy_not_keras_clipped_one():
    obj = Objective.create(head="softmax", task="classification", num_classes=3)
    logits = np.array([[40.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = obj.encode(np.array([1, 1]))
    true = (40.0 + math.log(1 + 2 * math.exp(-40.0)) + -math.log(math.e**2 / (2 + math.e**2))) / 2
    # the first answer's probability (4e-18) is held by float32: no logits needed
    assert obj.mean_loss(y, p.astype("float32")) == pytest.approx(true, rel=1e-6)
    # Keras's loss on probabilities clips at 1e-7: -log(1e-7) = 16.1 for the first answer
    assert float(obj.keras_loss()(y, p.astype("float32"))) < 9
    # beyond float32 (e^-200 is 0 there) the loss comes from that row's logits
    far = np.array([[200.0, 0.0, 0.0]])
    asked = []

    def logits_of(rows):
        asked.append(rows.tolist())
        return far[rows]

    p_far = np.array([[1.0, 0.0, 0.0]], dtype="float32")
    loss = obj.mean_loss(obj.encode(np.array([1])), p_far, logits_of)
    assert loss == pytest.approx(200.0 + math.log(1 + 2 * math.exp(-200.0)), rel=1e-12)
    assert asked == [[0]]


def test_history_metrics_and_the_lab_facts_state_one_test_loss(tmp_path):
    from zoo.lab.facts import Pair, answers, side_by_side
    from zoo.runfolder import read_run_folder

    fx.write_cifar100_archive(tmp_path, train_per_class=30, test_per_class=10)
    # a high rate and small batches: wrong answers become confident, where clipping shows
    run = zoo.train(
        "mlp", "cifar100-3class", data_dir=str(tmp_path), epochs=40, lr=0.5, batch_size=16,
        out=str(tmp_path / "reports"), quiet=True, report=False,
    )  # fmt: skip
    folder = read_run_folder(run.folder)
    with open(folder.path / "history.csv") as f:
        last = list(csv.DictReader(f))[-1]
    metrics = json.loads((folder.path / "metrics.json").read_text())
    history_loss, metrics_loss = float(last["val_loss"]), metrics["test"]["loss"]
    assert history_loss > 16.2  # beyond what a clipped loss could reach
    assert metrics_loss == pytest.approx(history_loss, rel=1e-5)
    ((_, facts), (_, overfit)) = answers([folder], "en")[:2]
    assert f"{history_loss:.4f} at the end" in overfit[0]
    side = side_by_side(Pair("hidden", folder, folder), "en")
    assert f"final test loss {metrics_loss:.4f}" in side
    assert f"{history_loss:.4f}" == f"{metrics_loss:.4f}"


def test_with_a_weight_penalty_metrics_and_history_still_agree(tmp_path):
    run = zoo.train(
        "mlp", "gaussians", epochs=5, l2=0.01, out=str(tmp_path), quiet=True, report=False
    )
    metrics = json.loads((Path(run.folder) / "metrics.json").read_text())
    assert metrics["test"]["loss"] == pytest.approx(run.history[-1]["val_loss"], rel=1e-5)
