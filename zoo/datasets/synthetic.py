"""Generated sets: the lecture's two Gaussians, TensorFlow Playground's four, moons, the lab's two.

TensorFlow Playground (github.com/tensorflow/playground, src/dataset.ts) draws its sets with the
radii, padding and noise scaling reproduced below; its labels +1 / -1 become classes 0 / 1
(class names "+1" and "-1"). Its noise slider runs 0..50 %; here `noise` is that fraction,
0..0.5. Like the Playground, these sets default to 500 points, noise 0 and half of the points
for testing. The draws come from a numpy Generator seeded by `seed`, so the points differ from
the Playground's (which uses seedrandom) but follow the same distributions.

Every split is stratified (see `zoo.datasets.split`); the Playground's own split is a plain
shuffled cut, which can leave the classes a few points out of balance.
"""

from __future__ import annotations

import numpy as np

from zoo.datasets.base import REGRESSION, Dataset
from zoo.datasets.registry import register_dataset
from zoo.datasets.split import make_rng, split_dataset
from zoo.errors import OptionError

MIN_SAMPLES = 4  # two per class at least, so both parts of a two-class split can hold each class
MAX_SAMPLES = 1_000_000  # far past what the figures can show; more only exhausts memory
PLAYGROUND_MAX_NOISE = 0.5
MAX_NOISE = 100.0  # a standard deviation 35 times the gaussians' distance between centres
PLAYGROUND_CLASSES = ["+1", "-1"]
BINARY_CLASSES = ["0", "1"]


def _check(samples: int, noise: float, max_noise: float | None = None) -> None:
    if samples < MIN_SAMPLES:
        raise OptionError(
            "samples", f"need at least {MIN_SAMPLES} to split into train and test, got {samples}"
        )
    if samples > MAX_SAMPLES:
        raise OptionError("samples", f"at most {MAX_SAMPLES:,} points, got {samples:,}")
    if not 0 <= noise <= MAX_NOISE:  # NaN fails this too
        raise OptionError(
            "noise",
            f"must be a number in 0..{MAX_NOISE:g} (beyond that the points are noise alone), "
            f"got {noise}",
        )
    if max_noise is not None and noise > max_noise:
        raise OptionError(
            "noise",
            f"the Playground's noise is a fraction 0..{max_noise} (its slider's 0..50 %), "
            f"got {noise}",
        )


def _halves(samples: int) -> tuple[int, int]:
    """Points of the first and second class: the Playground's numSamples / 2 each, summing up."""
    return samples - samples // 2, samples // 2


def _playground_labels(positive: np.ndarray) -> np.ndarray:
    """Playground +1 -> class 0, -1 -> class 1."""
    return np.where(positive, 0, 1)


def _uniform_disc_points(
    rng: np.random.Generator, n: int, r_min: float, r_max: float
) -> np.ndarray:
    # Radius uniform (not area-uniform), as the Playground draws it: the centre is denser.
    r = rng.uniform(r_min, r_max, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    return np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)


@register_dataset
def gaussians(*, samples: int = 100, noise: float = 0.65, seed: int = 0) -> Dataset:
    """Lecture dataset-1: two 2-D Gaussian classes around (-1,-1) and (1,1), sd 0.65."""
    _check(samples, noise)
    rng = make_rng(seed)
    n0, n1 = _halves(samples)
    x = np.concatenate(
        [rng.normal((-1.0, -1.0), noise, (n0, 2)), rng.normal((1.0, 1.0), noise, (n1, 2))]
    )
    y = np.repeat([0, 1], [n0, n1])
    return split_dataset(
        "gaussians",
        x,
        y,
        test_fraction=0.25,
        rng=rng,
        class_names=BINARY_CLASSES,
        description=f"two Gaussian classes, means (-1,-1) and (1,1), sd {noise:g}",
    )


def _playground(name: str, x: np.ndarray, positive: np.ndarray, rng, description: str) -> Dataset:
    return split_dataset(
        name,
        x,
        _playground_labels(positive),
        test_fraction=0.5,
        rng=rng,
        class_names=PLAYGROUND_CLASSES,
        description=description,
    )


@register_dataset
def circle(*, samples: int = 500, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Playground circle: class +1 inside radius 2.5, class -1 in the ring 3.5..5."""
    _check(samples, noise, PLAYGROUND_MAX_NOISE)
    rng = make_rng(seed)
    radius = 5.0
    n_in, n_out = _halves(samples)
    x = np.concatenate(
        [
            _uniform_disc_points(rng, n_in, 0.0, radius * 0.5),
            _uniform_disc_points(rng, n_out, radius * 0.7, radius),
        ]
    )
    # Noise moves only the point the label is read from, not the point itself: with noise
    # some labels cross the boundary while the drawn points keep their gap.
    shift = rng.uniform(-radius, radius, x.shape) * noise
    positive = np.hypot(*(x + shift).T) < radius * 0.5
    return _playground("circle", x, positive, rng, f"TensorFlow Playground circle, noise {noise:g}")


@register_dataset
def xor(*, samples: int = 500, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Playground XOR: class +1 where x*y >= 0 (quadrants I and III), else -1."""
    _check(samples, noise, PLAYGROUND_MAX_NOISE)
    rng = make_rng(seed)
    x = rng.uniform(-5, 5, (samples, 2))
    # The padding pushes points 0.3 away from both axes, so the quadrants are separated.
    x += np.where(x > 0, 0.3, -0.3)
    shift = rng.uniform(-5, 5, x.shape) * noise
    noisy = x + shift
    positive = noisy[:, 0] * noisy[:, 1] >= 0
    return _playground("xor", x, positive, rng, f"TensorFlow Playground XOR, noise {noise:g}")


@register_dataset
def gauss(*, samples: int = 500, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Playground Gaussians: class +1 around (2,2), -1 around (-2,-2); variance 0.5..4."""
    _check(samples, noise, PLAYGROUND_MAX_NOISE)
    rng = make_rng(seed)
    # The Playground maps noise 0..0.5 linearly to a variance 0.5..4 of each coordinate.
    sd = np.sqrt(0.5 + noise * (4.0 - 0.5) / 0.5)
    n_pos, n_neg = _halves(samples)
    x = np.concatenate(
        [rng.normal((2.0, 2.0), sd, (n_pos, 2)), rng.normal((-2.0, -2.0), sd, (n_neg, 2))]
    )
    positive = np.repeat([True, False], [n_pos, n_neg])
    return _playground(
        "gauss", x, positive, rng, f"TensorFlow Playground two Gaussians, noise {noise:g}"
    )


@register_dataset
def spiral(*, samples: int = 500, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Playground spiral: two interleaved arms of 1.75 turns, radius 0..5."""
    _check(samples, noise, PLAYGROUND_MAX_NOISE)
    rng = make_rng(seed)
    n_pos, n_neg = _halves(samples)
    arms = []
    for n, delta in ((n_pos, 0.0), (n_neg, np.pi)):
        step = np.arange(n) / n
        r = step * 5
        t = 1.75 * step * 2 * np.pi + delta
        arm = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        arms.append(arm + rng.uniform(-1, 1, arm.shape) * noise)
    positive = np.repeat([True, False], [n_pos, n_neg])
    return _playground(
        "spiral",
        np.concatenate(arms),
        positive,
        rng,
        f"TensorFlow Playground spiral, noise {noise:g}",
    )


@register_dataset
def moons(*, samples: int = 500, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (sklearn make_moons), noise sd 0.1."""
    _check(samples, noise)
    rng = make_rng(seed)
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=samples, noise=noise, random_state=seed)
    return split_dataset(
        "moons",
        x,
        y,
        test_fraction=0.25,
        rng=rng,
        class_names=BINARY_CLASSES,
        description=f"two interleaving half circles, noise sd {noise:g}",
    )


@register_dataset
def noisy_xor(*, samples: int = 1000, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Lab XOR: corners of {0,1}^2 plus N(0, 0.1) noise, label (x0 + x1) mod 2."""
    _check(samples, noise)
    rng = make_rng(seed)
    corners = rng.integers(0, 2, (samples, 2))
    y = corners.sum(axis=1) % 2
    x = corners + rng.normal(0.0, noise, corners.shape)
    return split_dataset(
        "noisy-xor",
        x,
        y,
        test_fraction=0.25,
        rng=rng,
        class_names=BINARY_CLASSES,
        description=f"XOR of the corners of the unit square, noise sd {noise:g}",
    )


@register_dataset
def sigmoid_1d(*, samples: int = 500, noise: float = 0.05, seed: int = 0) -> Dataset:
    """Lab regression: y = sigmoid(10x) + N(0, 0.05), x uniform in [-0.5, 0.5)."""
    _check(samples, noise)
    rng = make_rng(seed)
    x = rng.uniform(-0.5, 0.5, (samples, 1))
    y = 1.0 / (1.0 + np.exp(-10.0 * x[:, 0])) + rng.normal(0.0, noise, samples)
    return split_dataset(
        "sigmoid-1d",
        x,
        y,
        test_fraction=0.25,
        rng=rng,
        class_names=[],
        task=REGRESSION,
        description=f"y = 1 / (1 + exp(-10 x)) + noise of sd {noise:g}, x in [-0.5, 0.5)",
    )
