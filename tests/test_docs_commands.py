"""Every shell command in README.md and docs/*.md runs as written and exits as the text implies
(the rules, the reader's machine and the commands not run: `doc_commands`). The pages in
`doc_commands.OWN_MODULE` run in modules of their own, so that xdist spreads them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from doc_commands import (
    NOT_RUN,
    OWN_MODULE,
    PAGES,
    documented,
    is_zoo_or_shell,
    pages_with_commands,
    run_page,
    shell_commands,
)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    # one ZOO_CACHE for the module: XLA's compiled epochs are reused between the pages
    return tmp_path_factory.mktemp("zoo-cache")


@pytest.mark.parametrize("page", pages_with_commands(), ids=lambda page: page.name)
@pytest.mark.slow
def test_every_shell_command_of_the_page_runs_as_written(page, tmp_path, shared_cache):
    print("\n".join(run_page(page, tmp_path, shared_cache)))


def test_each_page_with_a_module_of_its_own_is_run_there():
    tests = Path(__file__).parent
    assert {page.name for page in PAGES} >= set(OWN_MODULE)
    for page, module in OWN_MODULE.items():
        assert (tests / f"{module}.py").is_file(), f"{page}: no {module}.py runs it"
        assert [p.name for p in pages_with_commands(module)] == [page]


def test_every_command_shown_is_run_or_listed_with_the_reason_it_is_not():
    unlisted = [
        f"{c.page}:{c.line}: {c.key}"
        for commands in documented().values()
        for c in commands
        if c.key not in NOT_RUN and not is_zoo_or_shell(c)
    ]
    assert unlisted == []


def test_every_command_not_run_is_still_shown_and_has_a_reason():
    shown = {c.key for commands in documented().values() for c in commands}
    assert sorted(set(NOT_RUN) - shown) == [], "NOT_RUN lists commands no page shows"
    assert all(reason.strip() for reason in NOT_RUN.values())


def test_the_command_reader_finds_prompts_continuations_and_output(tmp_path):
    page = textwrap.dedent(
        """\
        ```
        $ zoo serve a \\
            b
        zoo serve: the page is at http://127.0.0.1:8000/ (Ctrl-C stops)
        ```

        ```bash
        export ZOO_DATA_DIR=~/data      # a comment
        zoo train mlp cifar100 --classes 7,31,52   # '#' quoted: "a # b"
        reports/mlp-digits/
          config.json
        ```

        ```python
        zoo train this is python
        ```
        """
    )
    md = tmp_path / "page.md"
    md.write_text(page, encoding="utf-8")
    found = shell_commands(md)
    assert [(c.line, c.key) for c in found] == [
        (2, "zoo serve a b"),
        (8, "export ZOO_DATA_DIR=~/data"),
        (9, "zoo train mlp cifar100 --classes 7,31,52"),
    ]
    assert found[2].exports == ["export ZOO_DATA_DIR=~/data      # a comment"]
