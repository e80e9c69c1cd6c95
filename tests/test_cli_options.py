"""The command line's options are made from the options' own descriptions (trainer, builder,
loader), and a model of one's own takes its options as `-o NAME=VALUE`."""

from __future__ import annotations

import dataclasses
import json

import click
import pytest
from click.testing import CliRunner
from test_plugins import install_plugin, run_zoo

from zoo.cli import cli
from zoo.cli.common import click_options, typed_value
from zoo.optionspec import OptionSpec, specs_of
from zoo.training.plan import option_specs


@pytest.fixture
def home(tmp_path, monkeypatch, zoo_cache):
    """A HOME and config of the test's own, in a working folder of its own."""
    for name in ("XDG_CONFIG_HOME", "ZOO_CONFIG", "ZOO_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name in ("ZOO_LANG", "ZOO_VARIANT", "ZOO_AUTHOR", "ZOO_GROUP", "ZOO_TITLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def zoo(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def _options(command: click.Command) -> dict[str, click.Option]:
    return {p.name: p for p in command.params if isinstance(p, click.Option)}


def test_every_described_option_is_a_flag_of_train_and_of_sweep(home):
    from zoo.cli.sweep import REPLACED, sweep
    from zoo.cli.train import train

    described = option_specs()
    train_flags, sweep_flags = _options(train), _options(sweep)
    given = train.make_context("train", ["mlp", "digits"]).params  # nothing typed
    for name, (spec, default) in described.items():
        assert name in train_flags, name
        option = train_flags[name]
        assert option.help == (spec.help or None), name
        assert bool(option.show_default) == spec.show_default, name
        if spec.show_default:
            assert given[name] == default, name
        elif not spec.switch:  # None: not given, the owner's default applies
            assert given[name] is None, name
        if name not in REPLACED:  # the sweep's own --out, --variant, ... stand for these
            assert sweep_flags[name] is option, name


def test_a_flags_type_mirrors_the_owners_choices_and_ranges():
    from zoo.cli.train import train
    from zoo.models.layers import HEADS
    from zoo.training.options import MODES, OPTIMIZERS, SCHEDULES

    flags = _options(train)
    assert tuple(flags["optimizer"].type.choices) == OPTIMIZERS
    assert tuple(flags["lr_schedule"].type.choices) == SCHEDULES
    assert tuple(flags["head"].type.choices) == HEADS
    assert tuple(flags["mode"].type.choices) == tuple(MODES)
    assert not flags["mode"].type.case_sensitive
    lr = flags["lr"].type
    assert (lr.min, lr.min_open, lr.max) == (0, True, None)
    assert flags["nesterov"].is_flag and flags["quiet"].opts == ["-q", "--quiet"]
    assert flags["report"].secondary_opts == ["--no-report"] and flags["report"].default is True
    kinds = {name: spec.kind for name, (spec, _) in option_specs().items()}
    # from TrainOptions' own field types
    assert [kinds[k] for k in ("batch_size", "lr", "nesterov", "mode")] == [int, float, bool, str]
    assert (kinds["hidden"], kinds["l2"], kinds["data_seed"]) == (str, float, int)


def test_an_option_described_later_gets_its_flag_after_the_listed_ones():
    @dataclasses.dataclass
    class Options:
        rate: float = dataclasses.field(
            default=0.5, metadata={"spec": OptionSpec("A rate.", kind=float, min=0, max=1)}
        )
        folds: int | None = dataclasses.field(
            default=None, metadata={"spec": OptionSpec("Folds.", kind=int, min=2)}
        )
        note: str | None = None  # not described: no flag
        width: int = dataclasses.field(
            default=3, metadata={"spec": OptionSpec("Width.", kind=int, show_default=True)}
        )

    made = click_options(specs_of(Options), order=("folds",))
    assert [o.opts for o in made] == [["--folds"], ["--rate"], ["--width"]]
    assert made[2].show_default and not made[1].show_default
    command = click.Command("c", params=made, callback=lambda **kw: kw)
    assert command.main(["--rate", "0.25"], standalone_mode=False) == {
        "folds": None,
        "rate": 0.25,
        "width": 3,
    }
    with pytest.raises(click.BadParameter, match="0<=x<=1"):
        command.main(["--rate", "2"], standalone_mode=False)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5", 5),
        ("0.1", 0.1),
        ("1e-3", 0.001),
        ("true", True),
        ("[64, 32]", [64, 32]),
        ('"two words"', "two words"),
        ("relu", "relu"),
        ("64,32", "64,32"),
    ],
)
def test_a_model_options_value_is_read_as_toml_reads_it(text, value):
    got = typed_value(text)
    assert got == value and type(got) is type(value)


def test_model_options_with_a_flag_or_without_a_value_are_usage_errors(home):
    code, out = zoo("train", "mlp", "digits", "-o", "hidden=5")
    assert code == 2 and "'hidden' has a flag of its own: --hidden 5" in out, out
    code, out = zoo("train", "mlp", "digits", "-o", "width")
    assert code == 2 and "'width': write NAME=VALUE" in out, out
    code, out = zoo("train", "mlp", "digits", "-o", "width=3", "-o", "width=4")
    assert code == 2 and "'width' is given twice" in out, out
    code, out = zoo("train", "mlp", "digits", "-o", "width=3", "--out", home / "runs")
    assert code == 2 and "Invalid value for '-o width': model 'mlp' has no such option" in out
    assert "Traceback" not in out and not (home / "runs").exists()
    code, out = zoo("sweep", "mlp", "digits", "-o", "width=3", "--out", home / "sweep")
    assert code == 2 and "Invalid value for '-o width'" in out, out


def test_a_plugin_models_own_option_is_given_on_the_command_line(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    out = tmp_path / "runs"
    trained = run_zoo(
        site, tmp_path, "train", "tiny-net", "square-points", "-o", "width=5", "--epochs", "1",
        "--out", str(out), "--no-report", "-q",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    (folder,) = out.iterdir()
    config = json.loads((folder / "config.json").read_text())
    assert config["model_options"]["width"] == 5
    refused = run_zoo(
        site, tmp_path, "train", "tiny-net", "square-points", "-o", "width=wide", "--out",
        str(tmp_path / "refused"),
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "width='wide': tiny-net's width is a whole number (its default is 3)" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "refused").exists()
    refused = run_zoo(
        site, tmp_path, "sweep", "tiny-net", "square-points", "--grid", "width=4,4.5", "--out",
        str(tmp_path / "refused"),
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "'--grid width': width=4.5: tiny-net's width is a whole number" in refused.stderr
    assert not (tmp_path / "refused").exists()
    swept = run_zoo(
        site, tmp_path, "sweep", "tiny-net", "square-points", "-o", "width=4", "--grid",
        "lr=0.1,0.2", "--epochs", "1", "--jobs", "1", "--out", str(tmp_path / "sweep"), "-q",
    )  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    runs = sorted((tmp_path / "sweep" / "runs").glob("*/config.json"))
    assert len(runs) == 2
    assert [json.loads(p.read_text())["model_options"]["width"] for p in runs] == [4, 4]


def _flag_takes(spec: OptionSpec, value) -> bool:
    from zoo.cli.common import click_type

    try:
        click_type(spec).convert(str(value), None, None)
    except click.BadParameter:
        return False
    return True


def _trainer_takes(name: str, value) -> bool:
    from zoo.errors import OptionError
    from zoo.training.options import SCHEDULE_OPTIONS, TrainOptions

    # the schedule that takes `name`, when it is one of a schedule's options
    schedule = next((k for k, takes in SCHEDULE_OPTIONS.items() if name in takes), "constant")
    try:
        TrainOptions(**{"lr_schedule": schedule, name: value}).check()
    except OptionError as err:
        assert err.option == name, err
        return False
    return True


def test_a_trainer_flags_range_and_choices_mirror_the_trainers_own_checks():
    """At each end of a flag's range (and just past it) the flag and `TrainOptions.check`
    agree; every choice a flag offers is one the trainer takes. The flag only mirrors the
    rule, so that a typo is refused before anything is loaded."""
    probed = 0
    for name, (spec, _) in option_specs().items():
        if spec.owner != "trainer":
            continue
        probes = []
        for end, inside in ((spec.min, 1), (spec.max, -1)):
            if end is not None:
                step = 1 if spec.kind is int else 1e-6
                probes += [end, end + inside * step, end - inside * step]
        for value in probes:
            value = spec.kind(value)
            assert _flag_takes(spec, value) == _trainer_takes(name, value), (name, value)
            probed += 1
        for choice in spec.choices or ():
            assert _flag_takes(spec, choice) and _trainer_takes(name, choice), (name, choice)
            probed += 1
    assert probed > 50


@pytest.mark.parametrize(
    ("value", "default", "refused"),
    [
        (5, 3, None),
        (2.5, 3, "a whole number"),
        ("wide", 3, "a whole number"),
        (True, 3, "a whole number"),
        (1, 0.5, None),
        ("half", 0.5, "a number"),
        ([0.2, 0.5], 0.5, None),  # one value per layer: the builder's to judge
        (False, True, None),
        (1, True, "true or false"),
        ("anything", None, None),
    ],
)
def test_a_model_options_value_of_another_kind_than_its_default_is_named(value, default, refused):
    from zoo.cli.common import _unlike_default

    assert _unlike_default(value, default) == refused


def test_the_sweeps_own_flags_are_made_from_its_options_with_its_defaults(home):
    import inspect

    import zoo.sweeps
    from zoo.cli.sweep import sweep
    from zoo.sweeps.options import SWEEP_OPTIONS
    from zoo.sweeps.runner import EXECUTORS

    flags = _options(sweep)
    given = sweep.make_context("sweep", ["mlp", "digits"]).params  # nothing typed
    defaults = inspect.signature(zoo.sweeps.sweep).parameters
    for name, spec in SWEEP_OPTIONS.items():
        assert flags[name].help == (spec.help or None), name
        if spec.show_default or spec.switch:
            assert given[name] == defaults[name].default, name
        else:  # None: the library's own default (one per core, a folder named for the sweep)
            assert given[name] is None and defaults[name].default is None, name
    assert tuple(flags["executor"].type.choices) == EXECUTORS
    assert flags["jobs"].opts == ["-j", "--jobs"] and flags["stack"].default is True
