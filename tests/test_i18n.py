"""The language tables: one file per language, the same keys, no key twice."""

from __future__ import annotations

import json
import re
import string

import pytest
from click.testing import CliRunner

from zoo.cli import cli
from zoo.i18n import LOCALES, languages, t, table


def pairs(lang):
    return json.loads(
        (LOCALES / f"{lang}.json").read_text(encoding="utf-8"),
        object_pairs_hook=lambda items: items,
    )


@pytest.mark.parametrize("lang", languages())
def test_no_key_is_written_twice(lang):
    keys = [key for key, _ in pairs(lang)]
    assert len(keys) == len(set(keys))


def test_russian_translates_every_english_text_with_the_same_placeholders():
    en, ru = dict(pairs("en")), dict(pairs("ru"))
    assert set(ru) == set(en)
    fields = lambda text: {f for _, f, _, _ in string.Formatter().parse(text) if f}  # noqa: E731
    assert {k for k in en if fields(en[k]) != fields(ru[k])} == set()


def test_unknown_language_names_the_option():
    from zoo.errors import OptionError

    with pytest.raises(OptionError, match="lang"):
        table("xx")
    assert t("common.epoch", "ru") == "Эпоха"


def test_a_russian_report_of_a_diverged_run_says_why_in_russian(tmp_path):
    from pypdf import PdfReader

    import zoo

    run = zoo.train(
        "linear",
        "sigmoid-1d",
        mode="batch",
        lr=1e4,
        epochs=20,
        out=str(tmp_path),
        quiet=True,
        lang="ru",
    )
    assert run.status == "diverged"
    text = "".join(page.extract_text() for page in PdfReader(run.folder / "report.pdf").pages)
    assert "скорость обучения 10000,0 слишком велика" in " ".join(text.split())
    assert "too large" not in text


def test_a_russian_report_names_a_completed_run_in_russian(tmp_path):
    from pypdf import PdfReader

    import zoo

    run = zoo.train("logistic", "iris", epochs=2, out=str(tmp_path), quiet=True, lang="ru")
    text = " ".join(page.extract_text() for page in PdfReader(run.folder / "report.pdf").pages)
    assert "завершено" in text and "completed" not in text


def test_zoo_report_keeps_the_language_the_run_was_trained_with(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from pypdf import PdfReader

    import zoo
    from zoo.cli import cli

    monkeypatch.delenv("ZOO_LANG", raising=False)
    run = zoo.train(
        "logistic", "iris", epochs=2, out=str(tmp_path), quiet=True, lang="ru", report=False
    )
    result = CliRunner().invoke(cli, ["report", str(run.folder), "--format", "pdf"])
    assert result.exit_code == 0, result.output
    first = PdfReader(run.folder / "report.pdf").pages[0].extract_text()
    assert "Лабораторная работа" in first
    result = CliRunner().invoke(cli, ["report", str(run.folder), "--format", "pdf", "--lang", "en"])
    assert "Lab work" in PdfReader(run.folder / "report.pdf").pages[0].extract_text()


def test_counted_words_take_the_languages_plural_forms():
    from zoo.i18n import plural

    ru = [plural(n, "plural.weight_updates", "ru") for n in (1, 2, 5, 11, 21, 22, 112)]
    assert ru == [
        "1 обновление весов",
        "2 обновления весов",
        "5 обновлений весов",
        "11 обновлений весов",
        "21 обновление весов",
        "22 обновления весов",
        "112 обновлений весов",
    ]
    assert plural(1, "plural.weight_updates") == "1 weight update"
    assert plural(3, "plural.weight_updates") == "3 weight updates"


def test_a_full_batch_run_reports_one_weight_update_per_epoch(tmp_path):
    from run_fixtures import make_run_folder

    from zoo.reporting import describe
    from zoo.runfolder import read_run_folder

    run = read_run_folder(make_run_folder(tmp_path, "points", mode="batch"))
    assert "(1 обновление весов за эпоху)" in describe.task_paragraph(run, "ru")
    assert "(1 weight update per epoch)" in describe.task_paragraph(run, "en")


# Latin words a Russian report may hold: code (Keras layer and option names, shapes), units
# and software names. Everything else Latin must be a name the run itself carries.
CODE_AND_NAMES = {
    "activation", "dense", "dropout", "fit", "flatten", "head", "hidden", "hidden_", "keras",
    "none", "python", "relu", "seed", "sgd", "adam", "softmax", "sigmoid", "tensorflow", "cpu",
    "gpu", "jax", "csv", "history", "json", "mlp", "zoo", "onnx", "mse",
}  # fmt: skip


def test_a_russian_report_has_no_english_words_outside_names_and_code(tmp_path):
    import re
    import subprocess

    from run_fixtures import make_run_folder

    from zoo.runfolder import read_run_folder

    folder = make_run_folder(tmp_path, "image", with_model=True, comment="базовый вариант")
    result = CliRunner().invoke(cli, ["report", str(folder), "--lang", "ru"])
    assert result.exit_code == 0, result.output
    text = subprocess.run(
        ["pdftotext", str(folder / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    run = read_run_folder(folder)
    layers = [layer.get("name", "") for layer in run.config.get("layers", [])]
    names = {run.name, str(run.config["dataset"]), *run.class_names, *layers}
    allowed = {w.lower() for name in names for w in re.findall(r"[A-Za-z_]+", name)}
    allowed |= CODE_AND_NAMES
    english = sorted({w for w in re.findall(r"[A-Za-z_]{3,}", text) if w.lower() not in allowed})
    assert english == []


def test_explain_forward_in_russian_names_the_sum_in_russian(tmp_path):
    result = CliRunner().invoke(cli, ["explain", "forward", "--lang", "ru", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "сумма O1: -0.63 / -0.64" in result.output and " sum:" not in result.output


def test_every_gap_sentence_names_its_number(tmp_path):
    from run_fixtures import make_run_folder

    from zoo.reporting.pages import gap_sentences
    from zoo.runfolder import read_run_folder

    run = read_run_folder(make_run_folder(tmp_path, "points", epochs=8))
    for lang, words in (("en", "training loss = "), ("ru", "потери на обучающей выборке = ")):
        sentences = gap_sentences(run, lang)
        assert len(sentences) >= 2 and all(words in s for s in sentences[:2]), sentences


def test_russian_sentences_write_decimal_commas_and_english_ones_points(tmp_path):
    from run_fixtures import make_run_folder

    from zoo.i18n import decimal
    from zoo.reporting.pages import curve_sentences
    from zoo.runfolder import read_run_folder

    assert decimal(0.24444, ".4f", "ru") == "0,2444" and decimal(0.5, ".1f") == "0.5"
    run = read_run_folder(make_run_folder(tmp_path, "points", train_acc=0.9, test_acc=0.7))
    ru, en = " ".join(curve_sentences(run, "ru")), " ".join(curve_sentences(run, "en"))
    train, test = run.accuracy("train"), run.accuracy("test")
    assert f"{train:.4f}".replace(".", ",") in ru and f"{test:.4f}".replace(".", ",") in ru
    assert f"{train:.4f}" in en and f"{train:.4f}" not in ru
    metrics = json.loads((run.path / "metrics.json").read_text())  # files keep points
    assert isinstance(metrics["test"]["accuracy"], float)


def test_russian_report_tables_write_decimal_commas_and_the_files_keep_points(tmp_path):
    import csv

    from pypdf import PdfReader
    from run_fixtures import make_run_folder

    from zoo.i18n import decimal_marks

    sample = "0.9222 (92.2%), lab.json, 3.11.2"
    assert decimal_marks(sample, "ru") == "0,9222 (92,2%), lab.json, 3.11.2"
    assert decimal_marks("0.9222", "en") == "0.9222"
    runs = [make_run_folder(tmp_path, "points", name=f"mlp-points-{i}", seed=i) for i in range(2)]
    for out in ("comparison.pdf", "comparison.csv"):
        args = ["compare", *map(str, runs), "--lang", "ru", "--out", str(tmp_path / out[-3:] / out)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "pdf" / "comparison.pdf").pages)
    assert re.search(r"\b0,\d{2}", text) and not re.search(r"(?<![\w.])0\.\d", text), text
    with open(tmp_path / "csv" / "comparison.csv", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert any(re.fullmatch(r"0\.\d+", cell) for row in rows for cell in row), rows


DIVERGED = "the loss became nan at epoch 3: the learning rate 0.005 is too large"
STOPS = {  # status -> config.json as the engine writes it when a run stops that way
    "diverged": {"stop_reason": DIVERGED},
    "interrupted": {"stop_reason": "interrupted by SIGINT during epoch 4"},
    "stopped_early": {
        "patience": 2,
        "stop_reason": "no lower test loss for 2 epochs; weights of epoch 3 restored",
    },
    "target_reached": {"target_loss": 0.4, "stop_reason": "training loss 0.39 <= 0.4 at epoch 3"},
    "callback": {
        "status": "stopped_early",
        "stop_reason": "EarlyStopping stopped the run at epoch 3",
    },
}


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


@pytest.mark.parametrize(
    ("kind", "status"),
    [("image", "completed"), ("points", "completed"), ("regression", "completed"),
     *(("points", status) for status in STOPS)],
)  # fmt: skip
def test_a_russian_run_report_has_no_english_words_but_names_code_and_units(tmp_path, kind, status):
    from language_check import english_words, run_names
    from run_fixtures import make_run_folder

    options = {"status": status, **STOPS.get(status, {})}
    folder = make_run_folder(tmp_path, kind, with_model=kind != "regression", **options)
    result = CliRunner().invoke(cli, ["report", str(folder), "--lang", "ru"])
    assert result.exit_code == 0, result.output
    assert english_words(_pdf_text(folder / "report.pdf"), run_names(folder)) == []


def test_russian_comparison_and_sweep_reports_have_no_english_words(tmp_path):
    from language_check import english_words, run_names
    from run_fixtures import make_run_folder

    from zoo.sweeps import SweepSpec

    spec = SweepSpec.create("mlp", "gaussians", grid={"hidden": [5, 10]}, seeds=2)
    (tmp_path / "sweep.toml").write_text(spec.to_toml(), encoding="utf-8")
    for run in spec.runs():
        make_run_folder(tmp_path / "runs", "points", name=run.name, seed=run.seed)
    runs = sorted((tmp_path / "runs").iterdir())[:2]
    out = tmp_path / "comparison.pdf"
    for args in ([*runs, "--out", out], [tmp_path]):
        result = CliRunner().invoke(cli, ["compare", *map(str, args), "--lang", "ru"])
        assert result.exit_code == 0, result.output
    for pdf in (out, tmp_path / "report.pdf"):
        assert english_words(_pdf_text(pdf), run_names(tmp_path)) == [], pdf


def test_zoo_train_speaks_russian_on_the_console_with_lang_ru(tmp_path):
    from language_check import english_words

    args = ["train", "mlp", "gaussians", "--epochs", "2", "--no-report", "--out", str(tmp_path)]
    result = CliRunner().invoke(cli, [*args, "--lang", "ru"])
    assert result.exit_code == 0, result.output
    out = result.output
    for words in ("эпоха 1/2 потери ", "верных на контроле", "Обучающая выборка", "Полнота",
                  "лучшая эпоха: ", "папка запуска: "):  # fmt: skip
        assert words in out, out
    assert re.search(r"потери 0,\d{4}", out) and english_words(out) == [], out
    english = CliRunner().invoke(cli, [*args, "--lang", "en"]).output
    assert "epoch 1/2 loss " in english and "best epoch: " in english, english


def test_a_diverged_run_says_why_in_russian_and_nothing_else_under_quiet(tmp_path):
    args = ["train", "mlp", "digits", "--lr", "1000", "-q", "--epochs", "3", "--no-report"]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path), "--lang", "ru"])
    assert result.exit_code != 0
    lines = result.output.splitlines()
    said = "функция потерь перестала быть конечным числом на эпохе 1: скорость обучения"
    assert lines[0].startswith(said), lines
    assert lines[1:] == [f"папка запуска: {next(tmp_path.iterdir())}"], lines
