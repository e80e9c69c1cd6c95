"""A sweep written as data: the model, the data, options for every run, a grid, variants, seeds.

The spec expands into configurations (each variant crossed with every point of the grid) and
each configuration into one run per seed. It is saved as sweep.toml, read back with the
standard library's `tomllib`, and two specs are the same sweep when they expand to the same
runs.

    >>> spec = SweepSpec.create("mlp", "digits", grid={"hidden": [5, 10]}, seeds=2,
    ...                         options={"epochs": 20})
    >>> [run.name for run in spec.runs()]
    ['hidden=5,seed=0', 'hidden=5,seed=1', 'hidden=10,seed=0', 'hidden=10,seed=1']
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.errors import OptionError, ZooError
from zoo.jsonable import to_jsonable
from zoo.registry import canonical

MAX_RUNS = 1000  # more than this needs `yes=True`: a typo in a grid should not start a week
MAX_SWEEP = 100_000  # more than this is refused even with `yes=True`: checked from the axes
# Options the sweep itself sets for every run, and options one worker process holds for all
# the runs it trains: neither can be given per configuration.
SET_BY_SWEEP = ("seed", "out", "quiet", "run_name", "on_epoch")
PER_PROCESS = ("backend",)
SPEC_KEYS = ("model", "dataset", "seeds", "options", "grid", "variants")
MAX_NAME = 120  # characters of a run folder's name


def option_name(name: str) -> str:
    """ "batch-size" (a flag's spelling) -> "batch_size" (the library's)."""
    return str(name).strip().lstrip("-").replace("-", "_")


def flag_name(name: str) -> str:
    """ "batch_size" -> "batch-size", as run folder names and tables show options."""
    return name.replace("_", "-")


def value_text(value: Any) -> str:
    """A value as tables show it: 0.001, 64,32, true."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(value_text(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _plain(value: Any, where: str) -> Any:
    """A JSON/TOML value (tuples become lists); None and other objects are refused."""
    if isinstance(value, float) and not math.isfinite(value):  # before JSON turns it to None
        raise OptionError(where, f"takes a finite number, not {value!r}")
    value = to_jsonable(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise OptionError(where, f"takes a finite number, not {value!r}")
    if value is None or isinstance(value, dict):
        raise OptionError(where, f"{value!r} is not a value an option takes")
    if isinstance(value, list):
        return [_plain(v, where) for v in value]
    if not isinstance(value, bool | int | float | str):
        raise OptionError(where, f"{value!r} is not a value an option takes")
    return value


@dataclass
class Configuration:
    """One point of the sweep: `values` are its swept options, `options` all of its options."""

    number: int  # 1, 2, ... in the order of the spec
    values: dict[str, Any]
    options: dict[str, Any]

    @property
    def label(self) -> str:
        """ "hidden=5 lr=0.01", or "(every run alike)" when nothing is swept."""
        if not self.values:
            return "every run alike"
        return " ".join(f"{flag_name(k)}={value_text(v)}" for k, v in self.values.items())


@dataclass(frozen=True)
class PlannedRun:
    """One run of a configuration: its seed and the name of its folder under runs/."""

    configuration: Configuration
    seed: int
    name: str


@dataclass
class SweepSpec:
    """What a sweep trains. Build it with `SweepSpec.create` (checked) or `load_spec`."""

    model: str
    dataset: str
    options: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    variants: list[dict[str, Any]] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0])

    @classmethod
    def create(
        cls,
        model: str,
        dataset: str,
        *,
        options: Mapping[str, Any] | None = None,
        grid: Mapping[str, Iterable[Any]] | None = None,
        variants: Iterable[Mapping[str, Any]] | None = None,
        seeds: int | Iterable[int] | None = None,
    ) -> SweepSpec:
        """A checked spec: names in the library's spelling, plain values, no contradictions.

        `seeds`: a count (seeds `seed`, `seed`+1, ... where `seed` is options' seed, else 0)
        or the seeds themselves.
        """
        if not isinstance(model, str) or not model.strip():
            raise OptionError("model", "give a registered model's name (`zoo models`)")
        if not isinstance(dataset, str) or not dataset.strip():
            raise OptionError("dataset", "give a registered data set's name (`zoo datasets`)")
        common = _options(options or {}, "options")
        first_seed = common.pop("seed", 0)
        spec = cls(
            model=canonical(model),
            dataset=canonical(dataset),
            options=common,
            grid=_grid(grid or {}),
            variants=[_options(v, "variants", swept=True) for v in (variants or [])],
            seeds=_seeds(1 if seeds is None else seeds, first_seed),
        )
        spec._check_size()
        spec._check()
        return spec

    def _check_size(self) -> None:
        if self.size() > MAX_SWEEP:
            raise OptionError(
                "grid" if self.grid else "seeds",
                f"the sweep would have {self.size():,} runs ({self.axes_text()}), more than the "
                f"{MAX_SWEEP:,} one sweep folder holds; sweep fewer values",
            )

    def axes_text(self) -> str:
        parts = [f"{len(v)} {flag_name(k)}" for k, v in self.grid.items()]
        if self.variants:
            parts.append(f"{len(self.variants)} variant{'s' * (len(self.variants) > 1)}")
        parts.append(f"{len(self.seeds)} seed{'s' * (len(self.seeds) > 1)}")
        return " × ".join(parts)

    def _check(self) -> None:
        for name in self.grid:
            if name in self.options:
                raise OptionError(
                    "grid", f"{name} is swept and also set for every run; give it once"
                )
            for number, variant in enumerate(self.variants, start=1):
                if name in variant:
                    raise OptionError(
                        "grid", f"{name} is swept in the grid and set by variant {number}"
                    )
        # Grid values are distinct on each axis and no grid option is set by a variant, so two
        # configurations are the same only where two variants are: compared without expanding
        # the grid, which may be large.
        points = self.size() // len(self.seeds) // max(1, len(self.variants))
        merged = [json.dumps({**self.options, **v}, sort_keys=True) for v in self.variants]
        for j, key in enumerate(merged):
            if key in merged[:j]:
                i = merged.index(key)
                raise OptionError(
                    "variants",
                    f"configurations {i * points + 1} and {j * points + 1} are the same "
                    f"({self._label_of(j * points)})",
                )

    def size(self) -> int:
        """The number of runs, from the axes alone (nothing is expanded)."""
        count = max(1, len(self.variants)) * len(self.seeds)
        for values in self.grid.values():
            count *= len(values)
        return count

    def _label_of(self, index: int) -> str:
        """The label of configuration `index` (0-based), without expanding the others."""
        points = max(1, self.size() // len(self.seeds) // max(1, len(self.variants)))
        variant = self.variants[index // points] if self.variants else {}
        point, rest = {}, index % points
        for name in reversed(list(self.grid)):
            values = self.grid[name]
            point[name] = values[rest % len(values)]
            rest //= len(values)
        values = {**variant, **point}
        ordered = {k: values[k] for k in self.swept() if k in values}
        return Configuration(index + 1, ordered, {}).label

    # -- expansion ---------------------------------------------------------------------------
    def swept(self) -> list[str]:
        """The options that vary: those the variants set (in order of appearance), then the
        grid's."""
        names: list[str] = []
        for variant in self.variants:
            names.extend(k for k in variant if k not in names)
        names.extend(k for k in self.grid if k not in names)
        return names

    def configurations(self) -> list[Configuration]:
        """Every variant crossed with every point of the grid, in the order they were given."""
        names = list(self.grid)
        points = [dict(zip(names, combo, strict=True)) for combo in _product(self.grid)]
        confs = []
        for variant in self.variants or [{}]:
            for point in points:
                values = {**variant, **point}
                ordered = {k: values[k] for k in self.swept() if k in values}
                confs.append(Configuration(len(confs) + 1, ordered, {**self.options, **values}))
        return confs

    def runs(self) -> list[PlannedRun]:
        """One run per configuration and seed, each with its folder name."""
        confs = self.configurations()
        names = [_run_stem(conf) for conf in confs]
        clash = len(set(names)) < len(names)
        runs = []
        for conf, stem in zip(confs, names, strict=True):
            if clash or len(stem) > MAX_NAME:  # the numbers tell them apart
                stem = f"{conf.number:0{len(str(len(confs)))}d}" + (f",{stem}" if stem else "")
                stem = stem[:MAX_NAME]
            for seed in self.seeds:
                name = f"{stem},seed={seed}" if stem else f"seed={seed}"
                runs.append(PlannedRun(conf, seed, name))
        return runs

    # -- as data -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"model": self.model, "dataset": self.dataset, "seeds": self.seeds}
        if self.options:
            data["options"] = self.options
        if self.grid:
            data["grid"] = self.grid
        if self.variants:
            data["variants"] = self.variants
        return data

    def same_runs_as(self, other: SweepSpec) -> bool:
        """Whether both specs train exactly the same runs (however they were written)."""

        def key(spec):
            return sorted(
                json.dumps([r.name, r.seed, r.configuration.options], sort_keys=True)
                for r in spec.runs()
            ) + [spec.model, spec.dataset]

        return key(self) == key(other)

    def difference(self, other: SweepSpec) -> str:
        """What differs, in a few words, for the message that refuses to mix two sweeps."""
        mine, theirs = self.to_dict(), other.to_dict()
        for name in SPEC_KEYS:
            if mine.get(name) != theirs.get(name):
                return f"its {name} {_short(theirs.get(name))}, this one's {_short(mine.get(name))}"
        return "its runs differ"

    def digest(self) -> str:
        """A short fingerprint of the spec (names a storage folder shared by many sweeps)."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]

    def to_toml(self) -> str:
        """sweep.toml: reads back with `tomllib` as this very spec."""
        lines = [
            "# A zoo sweep. Rerun (and resume) it with: zoo sweep sweep.toml",
            f"model = {_toml(self.model)}",
            f"dataset = {_toml(self.dataset)}",
            f"seeds = {_toml(self.seeds)}",
        ]
        for table in ("options", "grid"):
            values = getattr(self, table)
            if values:
                lines += ["", f"[{table}]"]
                lines += [f"{_toml_key(k)} = {_toml(v)}" for k, v in values.items()]
        for variant in self.variants:
            lines += ["", "[[variants]]"]
            lines += [f"{_toml_key(k)} = {_toml(v)}" for k, v in variant.items()]
        return "\n".join(lines) + "\n"


def spec_from_dict(data: Mapping[str, Any], where: str = "the spec") -> SweepSpec:
    """A spec from sweep.toml's tables; a ZooError naming `where` for anything else."""
    unknown = [k for k in data if k not in SPEC_KEYS]
    if unknown:
        raise ZooError(
            f"{where}: unknown key {unknown[0]!r} (a sweep file has {', '.join(SPEC_KEYS)})"
        )
    for key in ("model", "dataset"):
        if not isinstance(data.get(key), str):
            raise ZooError(f'{where}: give `{key} = "..."`, the name of the {key}')
    for key, kind in (("options", dict), ("grid", dict), ("variants", list)):
        if key in data and not isinstance(data[key], kind):
            shape = "[[variants]] tables" if kind is list else f"a [{key}] table"
            raise ZooError(f"{where}: {key} should be {shape}")
    try:
        return SweepSpec.create(
            data["model"],
            data["dataset"],
            options=data.get("options"),
            grid=data.get("grid"),
            variants=data.get("variants"),
            seeds=data.get("seeds"),
        )
    except OptionError as err:
        raise ZooError(f"{where}: {err.option}: {err.message}") from None


def load_spec(path: str | Path) -> SweepSpec:
    """Read a sweep file (TOML), or the sweep.toml of a sweep folder."""
    from zoo.sweeps.folder import SPEC_FILE

    path = Path(path)
    if path.is_dir():
        path = path / SPEC_FILE
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ZooError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ZooError(f"cannot read {path}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ZooError(f"{path} is not valid TOML: {err}") from None
    return spec_from_dict(data, str(path))


# -- checks of the parts ---------------------------------------------------------------------
def _options(given: Mapping[str, Any], where: str, swept: bool = False) -> dict[str, Any]:
    if not isinstance(given, Mapping):
        raise OptionError(where, f"give options as name = value, not {given!r}")
    out: dict[str, Any] = {}
    for raw, value in given.items():
        name = option_name(raw)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise OptionError(where, f"{raw!r} is not an option's name")
        if name in SET_BY_SWEEP and (swept or name != "seed"):
            raise OptionError(name, _set_by_sweep(name))
        if swept and name in PER_PROCESS:
            raise OptionError(name, _per_process(name))
        if value is None:  # "not given", as everywhere in the zoo
            continue
        out[name] = _plain(value, name)
    return out


def _grid(given: Mapping[str, Iterable[Any]]) -> dict[str, list[Any]]:
    if not isinstance(given, Mapping):
        raise OptionError("grid", f"give the grid as name = [values], not {given!r}")
    grid: dict[str, list[Any]] = {}
    for raw, values in given.items():
        name = option_name(raw)
        if name in SET_BY_SWEEP:
            raise OptionError(name, _set_by_sweep(name))
        if name in PER_PROCESS:
            raise OptionError(name, _per_process(name))
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise OptionError("grid", f"{name}: give a list of values, e.g. {name} = [5, 10]")
        values = [_plain(v, name) for v in values]
        if not values:
            raise OptionError("grid", f"{name} has no values: give at least one")
        dupes = [v for i, v in enumerate(values) if v in values[:i]]
        if dupes:
            raise OptionError("grid", f"{name} lists {value_text(dupes[0])} twice")
        grid[name] = values
    return grid


def _seeds(seeds: int | Iterable[int], first: Any) -> list[int]:
    from zoo.training.options import MAX_SEED

    if not isinstance(first, int) or isinstance(first, bool) or not 0 <= first <= MAX_SEED:
        raise OptionError("seed", f"must be a whole number in 0..{MAX_SEED}, got {first!r}")
    if isinstance(seeds, bool):
        raise OptionError("seeds", f"give a count or a list of seeds, not {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise OptionError("seeds", f"must be at least 1, got {seeds}")
        if seeds > MAX_SWEEP:  # before a list of them is made
            raise OptionError("seeds", f"at most {MAX_SWEEP:,} seeds, got {seeds:,}")
        seeds = range(first, first + seeds)
    elif first:
        raise OptionError("seed", "give the seeds as a list, or a count and a first `seed=`")
    try:
        listed = list(seeds)
    except TypeError:
        raise OptionError("seeds", f"give a count or a list of seeds, not {seeds!r}") from None
    bad = [
        s for s in listed if not isinstance(s, int) or isinstance(s, bool) or not 0 <= s <= MAX_SEED
    ]
    if bad:
        raise OptionError("seeds", f"seeds are whole numbers in 0..{MAX_SEED}, got {bad[0]!r}")
    if not listed:
        raise OptionError("seeds", "give at least one seed")
    if len(set(listed)) < len(listed):
        raise OptionError("seeds", f"{listed} repeats a seed")
    return listed


def _set_by_sweep(name: str) -> str:
    if name == "seed":
        return "the sweep sets each run's seed: give `seeds=` (a count or a list)"
    return "the sweep sets it for each run"


def _per_process(name: str) -> str:
    return "one worker process trains on one backend: set it for every run, or run two sweeps"


def _product(grid: Mapping[str, list[Any]]) -> Iterable[tuple]:
    return itertools.product(*grid.values()) if grid else [()]


def _run_stem(conf: Configuration) -> str:
    parts = [f"{flag_name(k)}={_safe(value_text(v))}" for k, v in conf.values.items()]
    return ",".join(parts)


def _safe(text: str) -> str:
    """Characters every file system takes; "64,32" (two layers) becomes "64x32"."""
    return re.sub(r"[^A-Za-z0-9._+-]", "_", text.replace(",", "x"))


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if value is not None else "none"
    return text if len(text) <= 60 else text[:57] + "..."


# -- a TOML writer for the few kinds of values a spec holds -----------------------------------
def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float
    if isinstance(value, str):
        # JSON's escapes (\" \\ \n \uXXXX) are TOML's basic-string escapes
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")
