"""CLI conventions: --json output, name completion, one meaning per option, defaults in --help,
errors that blame the right thing, the cache's place, Keras's download found, zoo.toml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoo.cli import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path, monkeypatch, zoo_cache):
    """A HOME, config and cache of the test's own, in a working folder of its own."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "KERAS_HOME", "ZOO_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name in ("ZOO_GROUP", "ZOO_VARIANT", "ZOO_AUTHOR", "ZOO_TITLE", "ZOO_LANG", "ZOO_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return home


def zoo(*args, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
    return result.exit_code, result.output


def zoo_json(*args, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # warnings go to stderr


def run_zoo(*args, env=None, cwd=None):
    """`python -m zoo ARGS` in a process of its own (completion, warnings on stderr)."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "zoo", *map(str, args)],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        timeout=120,
    )


def test_version_is_the_packages_whatever_name_it_was_installed_by(home):
    from zoo import __version__

    code, out = zoo("--version")
    assert code == 0 and out.strip() == f"zoo, version {__version__}"


# -- --json ------------------------------------------------------------------------------------
def test_models_and_datasets_json_list_every_name_with_its_options(home):
    models = zoo_json("models", "--json")["models"]
    assert [m["name"] for m in models] == sorted(m["name"] for m in models)
    mlp = next(m for m in models if m["name"] == "mlp")
    assert set(mlp) == {"name", "description", "options"}
    assert mlp["options"]["activation"] == "relu" and mlp["description"]
    assert [m["name"] for m in zoo_json("models", "l*", "--json")["models"]] == [
        "lecture-net",
        "linear",
        "logistic",
    ]
    sets = {d["name"]: d for d in zoo_json("datasets", "--json")["datasets"]}
    assert sets["cifar100"]["reads_files"] is True and sets["digits"]["reads_files"] is False
    assert "classes" in sets["cifar100"]["options"] and sets["gaussians"]["options"]["seed"] == 0


def test_info_json_gives_sizes_classes_presets_and_the_settings(home):
    doc = zoo_json("info", "gaussians", "--samples", "40", "--data-seed", "2", "--json")
    assert doc["name"] == "gaussians" and doc["task"] == "classification"
    assert doc["train"] + doc["test"] == 40 and doc["input_shape"] == [2]
    assert [c["name"] for c in doc["classes"]] == ["0", "1"]
    assert sum(c["train"] for c in doc["classes"]) == doc["train"]
    assert set(doc["settings"]) >= {"config_files", "config", "cache", "data_dir"}
    assert doc["settings"]["cache"] == os.environ["ZOO_CACHE"]
    digits = zoo_json("info", "digits", "--json")
    (preset,) = digits["presets"]
    assert preset["models"] == "every model" and preset["name"]
    assert preset["options"] == {"lr": 0.1, "epochs": 200}


def test_info_json_imports_no_tensorflow():
    code = (
        "import sys; from zoo.cli import main\n"
        "try:\n    main(['info', 'digits', '--json'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('tensorflow', 'keras') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
    json.loads(out.stdout[: out.stdout.rindex("HEAVY")])  # the document before the probe


def test_compare_json_has_a_row_per_run_with_numbers_as_numbers(home, tmp_path):
    from run_fixtures import make_run_folder

    a = make_run_folder(tmp_path, name="a", train_acc=0.9, test_acc=0.7)
    b = make_run_folder(tmp_path, name="b", hidden=(32,), train_acc=0.95, test_acc=0.8)
    doc = zoo_json("compare", a, b, "--json")
    assert doc["kind"] == "runs" and [r["run"] for r in doc["rows"]] == [str(a), str(b)]
    row = doc["rows"][1]
    assert row["number"] == 2 and row["network"] and isinstance(row["params"], int)
    assert row["test_accuracy"] == pytest.approx(0.8, abs=0.05)
    assert not list(tmp_path.glob("comparison*"))  # --json writes no file
    code, out = zoo("compare", a, b, "--json", "--format", "csv")
    assert code == 2 and "--json" in out


def test_compare_json_of_a_sweep_gives_mean_and_sd_per_configuration(home, tmp_path):
    out = tmp_path / "sweep"
    code, text = zoo(
        "sweep", "mlp", "gaussians", "--grid", "hidden=3,5", "--epochs", "2", "--seeds", "2",
        "--jobs", "1", "--no-tensorboard", "--out", out, "-q", "--variant", "7",
    )  # fmt: skip
    assert code == 0, text
    configs = [json.loads(p.read_text(encoding="utf-8")) for p in out.glob("runs/*/config.json")]
    assert len(configs) == 4 and {str(c["variant"]) for c in configs} == {"7"}  # the lab's
    doc = zoo_json("compare", out, "--json")
    assert doc["kind"] == "sweep" and doc["swept"] == ["hidden"] and doc["task"] == "classification"
    assert [row["values"] for row in doc["rows"]] == [{"hidden": 3}, {"hidden": 5}]
    row = doc["rows"][0]
    assert row["seeds"] == row["finished"] == 2 and row["stats"]["test_accuracy"]["n"] == 2
    assert sum(r["best"] for r in doc["rows"]) == 1
    assert [r["seed"] for r in row["runs"]] == [0, 1]


# -- completion ----------------------------------------------------------------------------------
def complete(words: str, home: Path) -> list[str]:
    """What `zoo`'s bash completion offers for the last word of `words` (click's protocol)."""
    parts = words.split(" ")
    out = run_zoo(
        env={
            "_ZOO_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
            "HOME": str(home),
        }
    )
    assert out.returncode == 0, out.stderr
    return [line.split(",", 1)[1] for line in out.stdout.splitlines()]


def test_model_and_dataset_names_complete(home):
    assert complete("zoo train ml", home) == ["mlp"]
    assert complete("zoo train mlp cifar1", home) == ["cifar10", "cifar100", "cifar100-3class"]
    assert complete("zoo info fashion", home) == ["fashion-mnist"]
    assert "mlp" in complete("zoo sweep ", home) and complete("zoo sweep mlp dig", home) == [
        "digits"
    ]
    assert complete("zoo lr-find cn", home) == ["cnn"]


# -- one meaning per option, defaults shown -----------------------------------------------------
def test_the_data_seed_is_data_seed_and_the_old_seed_warns(home):
    out = run_zoo("info", "gaussians", "--seed", "3", "--json", cwd=home)
    assert (
        out.returncode == 0 and "--seed is deprecated" in out.stderr and "--data-seed" in out.stderr
    )
    new = run_zoo("info", "gaussians", "--data-seed", "3", "--json", cwd=home)
    assert new.stderr == "" and json.loads(new.stdout) == json.loads(out.stdout)
    code, out = zoo("info", "cifar10", "--data-seed", "3")
    assert code == 2 and "--data-seed" in out and "Traceback" not in out
    code, out = zoo("info", "gaussians", "--data-seed", "3", "--seed", "4")
    assert code == 2 and "disagree" in out
    assert "--seed " not in zoo("info", "--help")[1]  # hidden
    assert "--data-seed" in zoo("lr-find", "--help")[1]


def test_sweep_variant_is_the_lab_variant_and_a_configuration_is_a_setting(home, tmp_path):
    code, out = zoo("sweep", "--help")
    assert code == 0 and '--setting "NAME=V ..."' in out and "Lab variant" in out
    assert "--lab-variant" not in out
    # the old spelling of a configuration still parses, with a warning; bad pairs say so
    out = run_zoo(
        "sweep", "mlp", "gaussians", "--variant", "hidden=10 momentum", "--out", tmp_path / "s"
    )
    assert out.returncode == 2 and "deprecated" in out.stderr and "'--setting'" in out.stderr
    code, out = zoo("sweep", "mlp", "gaussians", "--variant", "5", "--variant", "6")
    assert code == 2 and "one lab variant" in out


def option_help(command: str) -> dict[str, str]:
    """`zoo COMMAND --help`'s options: the first flag -> its whole text on one line."""
    import re

    out = zoo(command, "--help")[1]
    blocks = re.split(r"\n(?=  -)", out.split("Options:", 1)[1])
    found = {}
    for block in blocks:
        words = block.split()
        flags = [w.rstrip(",") for w in words if w.startswith("-")]
        long = next((f for f in flags if f.startswith("--")), None)
        if long:
            found.setdefault(long.split("/")[0], " ".join(words))
    return found


def test_defaults_are_shown_in_help(home):
    helps = option_help("train")
    for option, default in [
        ("--mode", "minibatch"),
        ("--activation", "relu"),
        ("--head", "softmax"),
        ("--optimizer", "sgd"),
        ("--lang", "en"),
        ("--seed", "0"),
    ]:
        assert f"default: {default}" in helps[option], helps[option]
    assert "default: ru" in option_help("lab")["--lang"]
    assert "default: iu5" in option_help("lab")["--department"]


# -- errors blame the right thing ----------------------------------------------------------------
def test_a_data_folder_for_a_set_that_reads_no_files_blames_the_dataset(home, tmp_path):
    code, out = zoo("train", "mlp", "digits", "--data-dir", tmp_path, "--out", tmp_path / "r")
    assert code == 2
    assert "dataset 'digits' reads no files; --data-dir applies to cifar10, cifar100" in out
    assert "model" not in out
    assert not (tmp_path / "r").exists()


# -- the cache, and Keras's downloads -----------------------------------------------------------
def test_the_cache_follows_xdg_cache_home_and_zoo_cache_wins(monkeypatch, tmp_path):
    from zoo.datasets.cache import cache_dir

    monkeypatch.delenv("ZOO_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == tmp_path / "h" / ".cache" / "zoo"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "zoo"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not absolute: ignored
    assert cache_dir() == tmp_path / "h" / ".cache" / "zoo"
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "zc"))
    assert cache_dir() == tmp_path / "zc"


@pytest.mark.parametrize("layout", ["archive", "extracted-keras-3.6"])
@pytest.mark.parametrize("where", ["home", "keras_home"])
def test_cifar100_fetched_by_keras_is_found_without_a_download(home, tmp_path, layout, where):
    from image_fixtures import write_cifar100_archive, write_cifar100_folder

    base = home / ".keras" if where == "home" else tmp_path / "kh"
    datasets = base / "datasets"
    datasets.mkdir(parents=True)
    if layout == "archive":  # keras.datasets.cifar100 before Keras 3.6
        write_cifar100_archive(datasets, train_per_class=3, test_per_class=2)
    else:  # Keras 3.6+: NAME-target/cifar-100-python/ beside NAME-target_archive
        write_cifar100_folder(datasets / "cifar-100-python-target", train_per_class=3)
    env = {"KERAS_HOME": str(base)} if where == "keras_home" else {}
    # --source local: a download would be refused, so finding it proves it came from Keras
    doc = zoo_json(
        "info", "cifar100", "--classes", "apple,otter", "--source", "local", "--json", env=env
    )
    assert str(datasets) in doc["description"] and "(keras)" in doc["description"]
    assert [c["name"] for c in doc["classes"]] == ["apple", "otter"]
    assert doc["classes"][0]["train"] == 3
    assert str(datasets) in doc["settings"]["keras_cache"]
    assert not (Path(os.environ["ZOO_CACHE"]) / "downloads").exists()


def test_a_damaged_archive_in_kerass_folder_is_refused_and_left_there(home):
    datasets = home / ".keras" / "datasets"
    datasets.mkdir(parents=True)
    archive = datasets / "cifar-100-python.tar.gz"
    archive.write_bytes(b"not a tar archive at all")
    code, out = zoo("info", "cifar100", "--classes", "apple,otter", "--source", "local")
    assert code == 2 and str(archive) in out and "Traceback" not in out
    assert "removed" not in out and archive.read_bytes() == b"not a tar archive at all"


# -- zoo.toml -------------------------------------------------------------------------------------
def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_info_shows_the_config_files_merged_working_folder_over_user(home):
    write(home / ".config" / "zoo" / "zoo.toml", 'author = "Иванов И. И."\nvariant = 4\n')
    (Path.cwd() / "data").mkdir()
    write(Path.cwd() / "zoo.toml", "variant = 5\ngroup = 2\ndata-dir = 'data'\n")
    doc = zoo_json("info", "--json")["settings"]
    assert doc["config"] == {
        "author": "Иванов И. И.",
        "variant": 5,
        "group": "2",
        "data_dir": str(Path.cwd() / "data"),
    }
    assert doc["config_files"] == [
        str(home / ".config" / "zoo" / "zoo.toml"),
        str(Path.cwd() / "zoo.toml"),
    ]
    assert doc["data_dir"] == str(Path.cwd() / "data")
    code, out = zoo("info")
    assert code == 0 and "variant = 5" in out and "zoo.toml" in out


def test_xdg_config_home_and_config_flag_name_the_file(home, tmp_path):
    write(tmp_path / "xdg" / "zoo" / "zoo.toml", "group = 'from-xdg'\n")
    doc = zoo_json("info", "--json", env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert doc["settings"]["config"] == {"group": "from-xdg"}
    named = write(tmp_path / "other.toml", "group = 'named'\n")
    doc = zoo_json("--config", named, "info", "--json")
    assert doc["settings"]["config"] == {"group": "named"}
    assert doc["settings"]["config_files"] == [str(named)]


@pytest.mark.parametrize(
    "text, message",
    [
        ('group = "2"\nvariant = = 5\n', "line 2"),
        ('group = "2"\nvariant = [1,\n', "line 2"),
        ("group = 2\ncolour = 'red'\n", "line 2: unknown setting 'colour'"),
        ("variant = 'five'\n", "line 1: variant must be a whole number"),
        ("lang = 'fr'\n", "line 1: lang 'fr' is not one of"),
        ("department = 'x'\n", "line 1: department 'x' is not one of"),
    ],
)
def test_a_bad_config_file_exits_2_naming_the_file_and_line(home, text, message):
    path = write(Path.cwd() / "zoo.toml", text)
    code, out = zoo("models")
    assert code == 2, out
    assert str(path) in out and message in out and "Traceback" not in out


def test_config_values_are_defaults_that_flags_and_the_environment_beat(home, tmp_path):
    write(Path.cwd() / "zoo.toml", "lang = 'ru'\ngroup = 'G1'\nvariant = 7\n")
    code, out = zoo("train", "logistic", "iris", "--epochs", "1", "--out", tmp_path / "a", "-q")
    assert code == 0, out
    (run,) = (tmp_path / "a").iterdir()
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert (config["lang"], config["group"], str(config["variant"])) == ("ru", "G1", "7")
    code, out = zoo(
        "train", "logistic", "iris", "--epochs", "1", "--out", tmp_path / "b", "-q",
        "--lang", "en", "--group", "G2",
        env={"ZOO_VARIANT": "8"},
    )  # fmt: skip
    assert code == 0, out
    (run,) = (tmp_path / "b").iterdir()
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert (config["lang"], config["group"], str(config["variant"])) == ("en", "G2", "8")
    assert "ZOO_GROUP" not in os.environ  # set for the one command only


def test_a_config_data_dir_that_is_no_folder_is_named_and_not_used(home):
    write(Path.cwd() / "zoo.toml", "data_dir = 'nowhere'\n")
    out = run_zoo("info", "--json", cwd=Path.cwd(), env={"HOME": str(home)})
    assert out.returncode == 0
    assert f"data_dir {Path.cwd() / 'nowhere'} in {Path.cwd() / 'zoo.toml'} is not a folder" in (
        out.stderr
    )
    assert json.loads(out.stdout)["settings"]["data_dir"] is None


def test_the_config_files_language_reaches_the_explain_commands(home, tmp_path):
    write(Path.cwd() / "zoo.toml", "lang = 'ru'\n")
    code, out = zoo("explain", "forward", "--out", tmp_path / "f")
    assert code == 0 and "Скрытый слой" in out
    code, out = zoo("explain", "forward", "--out", tmp_path / "g", "--lang", "en")
    assert code == 0 and "Hidden layer" in out


def test_zoo_lab_1_takes_group_variant_and_data_from_the_config_file(home):
    from image_fixtures import write_cifar100_archive

    data = Path.cwd() / "data"
    data.mkdir()
    write_cifar100_archive(data, train_per_class=20, test_per_class=5)
    write(Path.cwd() / "zoo.toml", "group = 2\nvariant = 5\ndata_dir = 'data'\nlang = 'en'\n")
    code, out = zoo("lab", "1", "--epochs", "1", "-q")
    assert code == 0, out
    assert "9 bottle, 35 girl, 55 otter" in out  # group 2 + 7, variant 5 + 30, 5 + 50
    assert (Path.cwd() / "reports" / "lab1-2-v5" / "report.pdf").is_file()
