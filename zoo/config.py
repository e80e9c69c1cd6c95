"""`zoo.toml`: a student's group, variant, department, author, data folder and language, so
that `zoo lab 1` needs no flags.

Two places are read, the later winning key by key: the user's config folder
(``$XDG_CONFIG_HOME/zoo/zoo.toml``, default ``~/.config/zoo/zoo.toml``), then ``zoo.toml``
in the working folder. ``--config FILE`` (or ``$ZOO_CONFIG``) names one file instead of both.
A flag, then an environment variable (``$ZOO_GROUP`` ...), win over the file.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "zoo.toml").write_text('group = "IU5-21M"\\nvariant = 5\\n', encoding="utf-8")
>>> read_config(folder / "zoo.toml").values
{'group': 'IU5-21M', 'variant': 5}
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from zoo.errors import ZooError

FILENAME = "zoo.toml"
# key -> (the types it may have, what a message calls them)
KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "group": ((str, int), "a string or a number"),
    "variant": ((int,), "a whole number"),
    "department": ((str,), "a string"),
    "author": ((str,), "a string"),
    "title": ((str,), "a string"),
    "data_dir": ((str,), "a folder, as a string"),
    "lang": ((str,), 'a language code such as "ru"'),
}


class ConfigError(ZooError):
    """A config file that cannot be read or holds what the zoo does not take."""


@dataclass
class Config:
    """The settings found, and the files they came from (in the order read)."""

    values: dict[str, object] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def get(self, key: str, default=None):
        return self.values.get(key, default)


def user_config_file() -> Path:
    """``$XDG_CONFIG_HOME/zoo/zoo.toml``; ``~/.config/zoo/zoo.toml`` when that is unset."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    # the XDG rule: a relative value is invalid and ignored
    folder = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return folder / "zoo" / FILENAME


def config_files(cwd: Path | None = None) -> list[Path]:
    """The files `load_config` reads when no file is named, those that exist, weakest first."""
    candidates = [user_config_file(), (cwd or Path.cwd()) / FILENAME]
    found: list[Path] = []
    for path in candidates:
        if path.is_file() and all(not _same(path, other) for other in found):
            found.append(path)
    return found


def _same(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def read_config(path: str | os.PathLike) -> Config:
    """One config file's settings, checked; ConfigError (exit 2) names the file and line."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder") from None
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise ConfigError(f"{path}, line {line}: not UTF-8 text") from None
    except OSError as err:
        raise ConfigError(f"config file {path} cannot be read ({err.strerror or err})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}, {_where(err, text)}: not valid TOML ({_reason(err)})") from None
    values: dict[str, object] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in KEYS:
            known = ", ".join(KEYS)
            raise ConfigError(
                f"{path}, {_line_of(text, key)}: unknown setting {key!r} (known: {known})"
            )
        types, what = KEYS[name]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(f"{path}, {_line_of(text, key)}: {key} must be {what}")
        allowed = _allowed(name)
        if allowed and value not in allowed:
            raise ConfigError(
                f"{path}, {_line_of(text, key)}: {key} {value!r} is not one of {', '.join(allowed)}"
            )
        if name == "variant" and value < 0:
            raise ConfigError(f"{path}, {_line_of(text, key)}: variant must not be negative")
        if name == "data_dir":
            folder = Path(value).expanduser()
            value = str(folder if folder.is_absolute() else path.parent / folder)
        values[name] = str(value) if name == "group" else value
    return Config(values, [path])


def _allowed(name: str) -> list[str]:
    """The values a setting may take where they are a fixed list."""
    if name == "lang":
        from zoo.i18n import languages

        return languages()
    if name == "department":
        from zoo.lab.variant import DEPARTMENTS

        return list(DEPARTMENTS)
    return []


def environment(config: Config) -> dict[str, str]:
    """The settings that commands read as environment variables ($ZOO_GROUP ...), for those
    not set already: a variable set by the user wins over the file."""
    names = {
        "group": "ZOO_GROUP",
        "variant": "ZOO_VARIANT",
        "author": "ZOO_AUTHOR",
        "title": "ZOO_TITLE",
        "data_dir": "ZOO_DATA_DIR",
    }
    return {
        env: str(config.values[key])
        for key, env in names.items()
        if key in config.values and not os.environ.get(env)
    }


def load_config(path: str | os.PathLike | None = None, cwd: Path | None = None) -> Config:
    """The named file, or the user's file merged under the working folder's."""
    if path is not None:
        return read_config(path)
    merged = Config()
    for file in config_files(cwd):
        one = read_config(file)
        merged.values.update(one.values)
        merged.files.append(file)
    return merged


def _where(err: tomllib.TOMLDecodeError, text: str) -> str:
    """ "line L, column C" of a TOML error (Python 3.11 has them only in the message)."""
    found = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
    if found is not None:
        return f"line {found.group(1)}, column {found.group(2)}"
    return f"line {len(text.splitlines()) or 1}, at the end"  # "(at end of document)"


def _reason(err: tomllib.TOMLDecodeError) -> str:
    msg = getattr(err, "msg", None) or str(err)
    return re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", msg).rstrip(".")


def _line_of(text: str, key: str) -> str:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return f"line {number}"
    return "top level"
