"""The options of `zoo.sweeps.sweep` besides its runs' own (which `zoo.train` describes), as a
user sees them: help, kind of value, choices. Their defaults are `sweep`'s own (its
signature's); the command line makes `zoo sweep`'s flags from this table and them."""

from __future__ import annotations

from zoo.optionspec import OptionSpec, with_owner

EXECUTORS = ("local", "ray")

SWEEP_OPTIONS: dict[str, OptionSpec] = with_owner(
    {
        "seeds": OptionSpec(
            "Train every configuration with N seeds: --seed, --seed + 1, ... [default: 1].",
            kind=int,
            min=1,
        ),
        "jobs": OptionSpec(
            "Local worker processes [default, and at most: one per core].",
            kind=int,
            min=1,
            short="-j",
        ),
        "threads": OptionSpec(
            "Threads of each local worker [default: the cores shared out among the workers].",
            kind=int,
            min=1,
        ),
        "executor": OptionSpec(choices=EXECUTORS, show_default=True),
        "address": OptionSpec(
            "The Ray cluster's head, host:port (--executor ray) [default: $RAY_ADDRESS, else a "
            "Ray started here]."
        ),
        "storage": OptionSpec(
            "A folder every Ray node and this machine see: run folders go through it instead "
            "of coming back as files.",
            folder=True,
        ),
        "out": OptionSpec(
            "The sweep folder [default: reports/sweep-MODEL-DATASET-SWEPT; a sweep file: "
            "reports/FILE, or the folder of a sweep.toml].",
            folder=True,
        ),
        "tensorboard": OptionSpec(
            "TensorBoard event files in every run folder: tensorboard --logdir SWEEP_DIR.",
            kind=bool,
            negatable=True,
            show_default=True,
        ),
        "run_reports": OptionSpec("A report.pdf in every run folder too.", kind=bool, switch=True),
        "stack": OptionSpec(
            "Train MLP runs that differ only in --hidden, --lr and --momentum together, as one "
            "program (same numbers up to float rounding, several times faster).",
            kind=bool,
            negatable=True,
            show_default=True,
        ),
        "yes": OptionSpec("Train more than 1,000 runs without asking.", kind=bool, switch=True),
        "quiet": OptionSpec(
            "No progress line; nothing printed unless a run fails.",
            kind=bool,
            switch=True,
            short="-q",
        ),
    },
    "sweep",
)
