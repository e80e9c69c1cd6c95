"""Experiments: sweeps of ordinary runs over a grid, variants and seeds, and their summary.

    >>> result = sweep("mlp", "digits", grid={"hidden": [5, 10, 32]}, seeds=3, epochs=20)
    ...                                                                 # doctest: +SKIP
    >>> print(result.markdown())                                        # doctest: +SKIP

Nothing heavy is imported here: workers import TensorFlow. Nothing here draws: `zoo.sweep`
hands this package the writer of the sweep's report (`zoo.reporting.sweep`) and the viewers
of its runs (`zoo.api.standard_viewers`), so `zoo.sweeps` imports neither `zoo.reporting` nor
`zoo.notebook`, and they may read a sweep's data (`folder`, `spec`, `summary`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from zoo.errors import OptionError
from zoo.sweeps.folder import SPEC_FILE, is_sweep_folder
from zoo.sweeps.spec import MAX_RUNS, SweepSpec, load_spec

__all__ = [
    "MAX_RUNS",
    "SweepSpec",
    "is_sweep_folder",
    "load_spec",
    "read_sweep",
    "sweep",
]


def sweep(
    model: str | Path | SweepSpec,
    dataset: str | None = None,
    *,
    grid: Mapping[str, Iterable[Any]] | None = None,
    variants: Iterable[Mapping[str, Any]] | None = None,
    seeds: int | Iterable[int] | None = None,
    out: str | Path | None = None,
    jobs: int | None = None,
    threads: int | None = None,
    executor: str = "local",
    address: str | None = None,
    storage: str | Path | None = None,
    tensorboard: bool = True,
    lang: str = "en",
    run_reports: bool = False,
    stack: bool = True,
    quiet: bool = False,
    yes: bool = False,
    write_outputs: Callable | None = None,
    viewers: Callable | None = None,
    **options: Any,
):
    """Train every configuration of a grid (and/or a list of variants) with several seeds,
    each run an ordinary run folder, and write the sweep folder with its final table.

    `model`, `dataset`: registered names, as for `zoo.train`; or `model` is a sweep file
    (TOML) or a sweep folder and `dataset` is left out (then `grid`, `variants`, `seeds` and
    `options` given here replace the file's). `grid`: option name -> values; every variant
    (`variants`: a list of option dicts) is crossed with every point of the grid. `seeds`: a
    count (from `seed=`, default 0) or a list. `options`: any option of `zoo.train`, for every
    run.

    `out`: the sweep folder (default reports/sweep-MODEL-DATASET-SWEPT; a sweep file's own
    name, or the folder of a sweep.toml). Running the same spec into the same folder resumes
    it: finished (and diverged) runs are kept, the others are trained again. `jobs`: local
    worker processes (default: one per core), each with `threads` threads (default: the
    cores shared out among them); `executor="ray"` sends each run to the Ray
    cluster at `address` (default $RAY_ADDRESS, else a Ray started here), and the run folders
    come back into `out`, or go through `storage`, a folder every node sees. `tensorboard`:
    event files in every run folder. `lang`: of the report and the tables; `run_reports`: a
    report.pdf in every run folder too; `stack`: MLP runs that differ only in layer sizes,
    learning rate and momentum train together as one program (`zoo.sweeps.stack`: much
    faster for small networks; the numbers equal lone runs' up to float rounding); `quiet`:
    no progress line; `yes`: allow more than `MAX_RUNS` runs.

    `write_outputs(summary, lang)` writes the summary tables, the figures and report.pdf and
    returns their paths; `viewers()` gives each run's `zoo.training.Viewers` (its report.pdf
    with `run_reports`) in the worker that trains it, so it must be a module's own function.
    `zoo.sweep` passes both; here, by default, only the run folders and sweep.toml are
    written, as `zoo.training.train` writes no report of its own.

    Returns a `SweepResult` (`folder`, `summary`, `rows`, `best`, `unfinished`, `trained`,
    `markdown()`). Raises `OptionError` naming a bad option before anything trains; a run that
    diverges or fails is recorded, not raised. Ctrl-C stops the workers, keeps what finished,
    writes the summary and raises KeyboardInterrupt.
    """
    from zoo.sweeps.runner import default_folder, run_sweep

    if isinstance(model, SweepSpec):
        spec = model
        if dataset is not None:
            raise OptionError("dataset", "is part of the SweepSpec given")
    elif dataset is None:
        path = Path(model)
        if not (path.suffix.lower() == ".toml" or path.is_dir()):
            raise OptionError("dataset", f"give a data set for model {str(model)!r}")
        spec = load_spec(path)
        data = spec.to_dict()
        spec = SweepSpec.create(
            spec.model,
            spec.dataset,
            options={**data.get("options", {}), **options} if options else data.get("options"),
            grid=grid if grid is not None else data.get("grid"),
            variants=variants if variants is not None else data.get("variants"),
            seeds=seeds if seeds is not None else spec.seeds,
        )
        if out is None:
            folder = path if path.is_dir() else path.parent
            out = folder if path.is_dir() or path.name == SPEC_FILE else Path("reports") / path.stem
    else:
        spec = SweepSpec.create(
            str(model), dataset, options=options, grid=grid, variants=variants, seeds=seeds
        )
    if out is None:
        out = default_folder(spec)
    return run_sweep(
        spec,
        out=out,
        jobs=jobs,
        threads=threads,
        executor=executor,
        address=address,
        storage=storage,
        tensorboard=tensorboard,
        lang=lang,
        run_reports=run_reports,
        stack=stack,
        quiet=quiet,
        yes=yes,
        write_outputs=write_outputs,
        viewers=viewers,
    )


def read_sweep(folder: str | Path):
    """The summary of the sweep in `folder` as its run folders are now (nothing is trained)."""
    from zoo.sweeps.summary import summarize

    return summarize(folder, load_spec(folder))
