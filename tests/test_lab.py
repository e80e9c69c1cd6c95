"""`zoo lab 1`: the variant's classes, the three tasks in one folder, the lab's report.

The helpers here (`zoo`, `pdf_text`, `paste`, ...) serve test_lab2 too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoo.cli import cli
from zoo.errors import OptionError
from zoo.lab.variant import Rule, group_number, variant_classes


def zoo(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def pdf_text(path) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(path).pages).replace("\n", " ")


def test_the_variant_rule_gives_the_issues_example():
    classes = variant_classes(group=2, variant=5)
    assert [(c.index, c.name) for c in classes] == [(9, "bottle"), (35, "girl"), (55, "otter")]
    assert variant_classes(2, 5, "guimc")[2].index == 90
    assert variant_classes(2, 5, "foreign")[2].index == 93
    assert [c.index for c in variant_classes(2, 5, rule=Rule(4, 17, 42))] == [6, 22, 47]


def test_a_group_name_gives_its_last_number():
    assert group_number("ИУ5-21М") == 21 and group_number("3") == 3
    with pytest.raises(OptionError, match="no number"):
        group_number("ИУ")


@pytest.mark.parametrize(
    ("group", "variant", "department", "words"),
    [
        (95, 5, "iu5", "outside CIFAR-100's 0..99"),  # 95 + 7 = 102
        (2, 60, "iu5", "outside"),  # 60 + 50 = 110
        (28, 5, "iu5", "the same class twice"),  # 28 + 7 = 35 = 5 + 30
        (2, 60, "guimc", "the same class twice"),  # 60 + 30 = 90 = GUIMC's class
    ],
)
def test_a_variant_outside_the_classes_or_repeating_one_names_the_rule(
    group, variant, department, words
):
    with pytest.raises(OptionError, match=words):
        variant_classes(group, variant, department)
    code, out = zoo("lab", "1", "--group", group, "--variant", variant, "--department", department)
    assert code == 2 and words in out and "group" in out


def paste(command: str, report_text: str):
    """Run a hint as a student would: it is printed whole in the report, then pasted."""
    import shlex

    from zoo.lab.hints import one_line

    assert "".join(command.split()) in "".join(report_text.split()), command
    assert all(len(line) <= 72 for line in command.splitlines())  # no line the page breaks
    words = shlex.split(one_line(command))
    assert words[:2] == ["zoo", "train"] and "..." not in command and "LABDIR" not in command
    code, out = zoo(*words[1:], "-q", "--no-report")
    assert code == 0, out
    return words[words.index("--comment") + 1]


def paired_with_base(folder, kind: str, comment: str) -> bool:
    from zoo.lab.facts import pairs
    from zoo.lab.folder import lab_runs

    runs = lab_runs(folder, "runs")
    return any(
        {p.first.name, p.second.name} >= {runs[0].name}
        and comment in (p.first.config.get("comment"), p.second.config.get("comment"))
        for p in pairs(runs, kind)
    )


def write_lab_archive(data: Path) -> Path:
    """The CIFAR-100 fixture archive both labs are trained on: 50 training and 10 test
    images a class."""
    from image_fixtures import write_cifar100_archive

    write_cifar100_archive(data, train_per_class=50, test_per_class=10)
    return data


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory):
    data = write_lab_archive(tmp_path_factory.mktemp("data"))
    folder = tmp_path_factory.mktemp("lab") / "lab1"
    code, out = zoo(
        "lab", "1", "--group", "2", "--variant", "5", "--data-dir", data, "--out", folder,
        "--epochs", "3", "--author", "Иванов И. И.", "-q",
    )  # fmt: skip
    assert code == 0, out
    assert "9 bottle, 35 girl, 55 otter" in out
    return folder, data


@pytest.mark.slow  # reads the whole lab's run
def test_zoo_lab_1_writes_every_task_and_a_report_with_the_variant(lab_folder):
    folder, _ = lab_folder
    lab = json.loads((folder / "lab.json").read_text(encoding="utf-8"))
    assert [c["index"] for c in lab["classes"]] == [9, 35, 55]
    assert (folder / "task1" / "manual-regression.json").is_file()
    (task2,) = (folder / "task2").iterdir()
    config = json.loads((task2 / "config.json").read_text())
    assert config["dataset"] == "noisy-xor" and config["loss"] == "bce"
    assert config["model_options"]["hidden"] == [16]  # as the CLI's --hidden 16 records it
    (base,) = (folder / "runs").iterdir()
    config = json.loads((base / "config.json").read_text())
    assert config["class_ids"] == [9, 35, 55] and config["lr"] == 0.005
    assert config["model_options"]["init"] == "torch"  # the notebook's nn.Linear weights
    text = pdf_text(folder / "report.pdf")
    for words in ("Лабораторная работа №1", "Иванов И. И.", "bottle", "girl", "otter"):
        assert words in text, words
    for words in ("1. Регрессия", "2. Бинарная классификация", "3. Полносвязная сеть"):
        assert words in text, words
    assert "Итоговая таблица" in text and "базовый вариант" in text


@pytest.mark.slow  # reads the whole lab's run
def test_more_runs_in_the_folder_join_the_table_and_the_facts(lab_folder):
    folder, data = lab_folder
    base = json.loads(next((folder / "runs").iterdir()).joinpath("config.json").read_text())
    common = ["train", "mlp", "cifar100", "--classes", "9,35,55", "--data-dir", data, "-q"]
    common += ["--lr", "0.005", "--out", folder / "runs", "--lang", "ru"]
    code, out = zoo(*common, "--hidden", "10", "--batch-size", "64", "--iterations",
                    base["iterations"], "--comment", "батч 64")  # fmt: skip
    assert code == 0, out
    code, out = zoo(*common, "--hidden", "32", "--batch-size", "128", "--epochs", "3",
                    "--comment", "32 нейрона")  # fmt: skip
    assert code == 0, out
    code, out = zoo("lab", "1", "--report-only", folder)
    assert code == 0, out
    text = pdf_text(folder / "report.pdf")
    assert "батч 64" in text and "32 нейрона" in text
    assert "батч 128" in text and "батч 64" in text  # the batch-size pair, side by side
    assert "Нет двух запусков, различающихся только размером батча" not in text
    assert "Нет двух запусков, различающихся только скрытыми слоями" not in text


@pytest.mark.slow  # reads the whole lab's run
def test_report_only_refuses_another_variants_folder(lab_folder):
    folder, _ = lab_folder
    code, out = zoo("lab", "1", "--report-only", folder, "--variant", "6")
    assert code == 2 and "variant 5" in out
    code, out = zoo("lab", "1", "--group", "2", "--variant", "5", "--out", folder)
    assert code == 2 and "already holds a lab" in out


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        ({"classes": [{"name": "bottle"}]}, 'class 1 of "classes"'),
        ({"classes": "9,35,55"}, '"classes"'),
        ({"lab": "1"}, '"lab"'),
        ({"variant": "five"}, '"variant"'),
        ({"lang": "de"}, '"lang"'),
        ({"group": 2}, '"group"'),
    ],
)
@pytest.mark.slow  # reads the whole lab's run
def test_an_edited_lab_json_is_named_with_its_key(lab_folder, tmp_path, edit, named):
    import shutil

    source, data = lab_folder
    folder = tmp_path / "lab1"
    shutil.copytree(source, folder)
    lab = json.loads((folder / "lab.json").read_text(encoding="utf-8"))
    (folder / "lab.json").write_text(json.dumps({**lab, **edit}), encoding="utf-8")
    report = (folder / "report.pdf").read_bytes()
    code, out = zoo("lab", "1", "--report-only", folder)
    assert code == 2 and "lab.json" in out and named in out, out
    assert (folder / "report.pdf").read_bytes() == report
    code, out = zoo("lab", "1", "--group", "2", "--variant", "5", "--data-dir", data,
                    "--out", folder, "-q")  # fmt: skip
    assert code == 2 and named in out, out


@pytest.mark.slow  # reads the whole lab's run
def test_each_hint_of_lab_1s_report_pasted_gives_a_run_paired_with_the_base(lab_folder):
    """The lab was trained with `zoo lab 1 --epochs 3`: the hints repeat the base's 3 epochs."""
    from zoo.lab.folder import lab_runs
    from zoo.lab.hints import lab1_hints, one_line

    folder, _ = lab_folder
    code, out = zoo("lab", "1", "--report-only", folder, "--lang", "en")
    assert code == 0, out
    text = pdf_text(folder / "report.pdf")
    hints = lab1_hints(lab_runs(folder, "runs")[0], folder)
    assert set(hints) == {"q3", "q4", "q5"}
    q3 = one_line(hints["q3"][0])
    assert "--lr 0.005" in q3 and "--init torch" in q3
    assert "bottle,girl,otter" in q3 and str(folder.resolve()) in q3
    kinds = {"q3": "batch", "q4": "lr", "q5": "hidden"}
    comments = {q: paste(hints[q][0], text) for q in kinds}
    code, out = zoo("lab", "1", "--report-only", folder, "--lang", "en")
    assert code == 0, out
    for q, kind in kinds.items():
        assert paired_with_base(folder, kind, comments[q]), (q, hints[q][0])
    text = pdf_text(folder / "report.pdf")
    for missing in ("No two runs differ only in the batch size",
                    "No two runs differ only in a lower learning rate",
                    "No two runs differ only in the hidden layers"):  # fmt: skip
        assert missing not in text, missing


def mark_interrupted(run_folder: Path) -> None:
    config = json.loads((run_folder / "config.json").read_text())
    config.update(status="interrupted", stop_signal="SIGINT")
    (run_folder / "config.json").write_text(json.dumps(config))


@pytest.mark.slow  # reads the whole lab's run
def test_an_interrupted_lab_1_resumes_from_the_task_it_stopped_in(lab_folder, tmp_path):
    import shutil

    source, data = lab_folder
    folder = tmp_path / "lab1"
    shutil.copytree(source, folder)
    task2 = next((folder / "task2").iterdir())
    mark_interrupted(task2)
    (folder / "report.pdf").unlink()
    base = sorted((folder / "runs").iterdir())
    code, out = zoo(
        "lab", "1", "--group", "2", "--variant", "5", "--data-dir", data, "--out", folder,
        "--epochs", "3", "-q",
    )  # fmt: skip
    assert code == 0, out
    assert not task2.exists() and len(list((folder / "task2").iterdir())) == 1
    assert sorted((folder / "runs").iterdir()) == base  # task 3 had finished: kept
    assert (folder / "report.pdf").is_file()
    code, out = zoo("lab", "1", "--group", "2", "--variant", "6", "--data-dir", data,
                    "--out", folder)  # fmt: skip
    assert code == 2 and "variant 5" in out  # another variant's folder is never resumed


@pytest.mark.slow  # reads the whole lab's run
def test_a_second_zoo_lab_on_a_folder_a_live_one_works_in_is_refused(lab_folder, tmp_path):
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from zoo.lab.folder import LAB_LOCK

    source, data = lab_folder
    folder = tmp_path / "lab1"
    shutil.copytree(source, folder)
    mark_interrupted(next((folder / "task2").iterdir()))  # a lab to resume
    args = ["lab", "1", "--group", "2", "--variant", "5", "--data-dir", str(data)]
    args += ["--out", str(folder), "--epochs", "3", "-q"]
    root = Path(__file__).resolve().parents[1]
    first = subprocess.Popen(
        [sys.executable, "-c", "from zoo.cli import main; main()", *args],
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lock = folder / LAB_LOCK
        for _ in range(600):  # until it holds the folder
            if (lock.is_file() and lock.read_text().strip()) or first.poll() is not None:
                break
            time.sleep(0.1)
        assert first.poll() is None, first.communicate()[1]
        first.send_signal(signal.SIGSTOP)  # held where it is: working in the folder
        code, out = zoo(*args)
        assert code == 2, out
        assert f"a lab is already running in {str(folder)!r}" in out
        assert f" {first.pid}" in out, out
    finally:
        first.kill()  # a lab killed outright: the kernel frees its folder
        first.wait()
    code, out = zoo(*args)
    assert code == 0, out
    assert not (folder / LAB_LOCK).exists() and (folder / "report.pdf").is_file()


@pytest.mark.slow  # reads the whole lab's run
def test_a_full_disk_while_the_labs_report_is_written_is_exit_74_and_cuts_nothing(
    lab_folder, tmp_path
):
    import os
    import shutil
    import subprocess

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    source, _ = lab_folder
    # room for the lab folder as it is now (other tests of the module add runs to it), each
    # file in whole pages, and 4 MB more
    files = [p.stat().st_size for p in source.rglob("*") if p.is_file()]
    size = sum(-(-n // 4096) * 4096 for n in files) + 4 * 2**20
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)]
    if subprocess.run(mount).returncode:
        pytest.skip("this machine does not let tests mount a tmpfs")
    try:
        folder = disk / "lab1"
        shutil.copytree(source, folder)
        (folder / "report.pdf").unlink()
        before = sorted(p.name for p in folder.iterdir())
        filler = disk / "filler"
        filler.write_bytes(b"\0" * shutil.disk_usage(disk).free)  # not a byte left
        code, out = zoo("lab", "1", "--report-only", folder)
        assert code == 74, out  # was 70: zlib.error from PdfPages closing after the refusal
        assert "No space left on device" in out and "Traceback" not in out
        assert sorted(p.name for p in folder.iterdir()) == before  # nothing cut, nothing left
        filler.unlink()
        code, out = zoo("lab", "1", "--report-only", folder)
        assert code == 0, out
        assert pdf_text(folder / "report.pdf")
    finally:  # lazily: a file left open by a failure must not keep the mount
        subprocess.run(["umount", "-l", str(disk)], check=False)


# -- every text on every page fits ---------------------------------------------------------------
def check_every_page_fits(folder: Path, tmp_path: Path, monkeypatch, lang: str) -> str:
    """The lab's report rewritten from a copy of `folder` in `lang`, every text on every page
    checked to fit; returns the report's text. In Russian: no English words but names, code
    and units."""
    import shutil

    from layout_pages import checked_pages

    from zoo.lab.report import write_lab_report

    copy = shutil.copytree(folder, tmp_path / folder.name)
    with checked_pages(monkeypatch) as faults:
        path = write_lab_report(copy, lang=lang)
    assert faults == []
    text = pdf_text(path)
    assert ("Класс CIFAR-100" if lang == "ru" else "CIFAR-100 class") in text
    if lang == "ru":  # one language: Latin words only for names, code and units
        from language_check import english_words, run_names

        names = run_names(copy)
        found = english_words(_pdf_plain_text(path), names)
        assert found == [], "\n".join(found)
    return text


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.slow  # reads the whole lab's run
def test_every_page_of_lab_1s_report_fits(lab_folder, tmp_path, monkeypatch, lang):
    folder, _ = lab_folder
    text = check_every_page_fits(folder, tmp_path, monkeypatch, lang)
    # the rule in the report's words
    assert ("номер группы 2 + 7" if lang == "ru" else "group 2 + 7") in text


def _pdf_plain_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
