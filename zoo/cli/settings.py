"""What `zoo.toml` (see `zoo.config`) gives the commands, with flags and $ZOO_* winning.

Group, variant, author, title and the data folder reach the commands as $ZOO_GROUP,
$ZOO_VARIANT, $ZOO_AUTHOR, $ZOO_TITLE and $ZOO_DATA_DIR, set for the one command only where
the user has not set them: every command already reads those, the workers of a sweep inherit
them, and a set that reads no files (iris, digits) is not handed a data folder. The language
and the department are defaults of the options that take them; `zoo report` and `zoo compare`
put the run's own language before the file's (see `config_lang`).
"""

from __future__ import annotations

import contextlib
import os

import click

META = "zoo.config"
# commands whose --lang is a default the file may set (report, compare and shift follow the
# run, see config_lang; explain's commands are one level down)
LANG_COMMANDS = ("train", "sweep", "lab", "lr-find")


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def apply_config(ctx: click.Context, path: str | None, commands) -> None:
    """Read the config file(s) and make them the defaults of `commands` (their names)."""
    from zoo.config import environment, load_config

    config = load_config(path)
    ctx.meta[META] = config
    if not config.values:
        return
    values = environment(config)
    folder = values.get("ZOO_DATA_DIR")
    if folder is not None and not os.path.isdir(folder):
        # not an error for every command (zoo models needs no data), but not used either:
        # a loader would blame $ZOO_DATA_DIR, which the user never set
        where = " or ".join(str(f) for f in config.files)
        click.echo(f"zoo: data_dir {folder} in {where} is not a folder; it is not used", err=True)
        del values["ZOO_DATA_DIR"]
    ctx.with_resource(_environment(values))
    lang, department = config.get("lang"), config.get("department")
    base = dict(ctx.default_map or {})
    for name in commands:
        wanted = {}
        if lang is not None and name in LANG_COMMANDS:
            wanted["lang"] = lang
        if department is not None and name == "lab":
            wanted["department"] = department
        if wanted:
            base[name] = {**wanted, **base.get(name, {})}
    if lang is not None and ctx.invoked_subcommand == "explain":
        group = ctx.command.get_command(ctx, "explain")  # imported only when it runs
        base["explain"] = {sub: {"lang": lang} for sub in group.list_commands(ctx)}
    if base:
        ctx.default_map = base


def current_config(ctx: click.Context | None = None):
    """The settings read for this command (an empty `Config` outside the `zoo` group)."""
    from zoo.config import Config

    ctx = ctx or click.get_current_context(silent=True)
    found = ctx.find_root().meta.get(META) if ctx is not None else None
    return found if found is not None else Config()


def config_lang(ctx: click.Context | None = None) -> str | None:
    """The file's language, for `zoo report` and `zoo compare` where the run has none."""
    return current_config(ctx).get("lang")
