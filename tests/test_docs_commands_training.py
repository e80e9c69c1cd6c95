"""The documented commands of training.md, as written, on small archives in the official
formats: a module of its own (`doc_commands.OWN_MODULE`)."""

from __future__ import annotations

import pytest
from doc_commands import pages_with_commands, run_page


@pytest.mark.slow
@pytest.mark.parametrize(
    "page", pages_with_commands("test_docs_commands_training"), ids=lambda page: page.name
)
def test_every_shell_command_of_the_page_runs_as_written(page, tmp_path):
    print("\n".join(run_page(page, tmp_path, tmp_path / "zoo-cache")))
