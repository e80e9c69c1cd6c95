"""A name -> builder registry shared by models and datasets (timm style).

Adding an entry is one decorator on a function whose name is the entry's name; underscores
become hyphens (`breast_cancer` -> `breast-cancer`). The modules that hold the entries are
imported on first use, so listing names stays cheap.

Installed packages add entries through an entry-point group (`zoo.models`, `zoo.datasets`),
read on the first lookup. In a plugin's `pyproject.toml`::

    [project.entry-points."zoo.models"]
    tiny-mlp = "my_models:tiny_mlp"        # a builder: registered under the entry's name
    my-models = "my_models"                # a module whose import registers its entries

A plugin that fails to load is named in a warning and left out; the zoo's own entries stay.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect
import logging
import types
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from zoo.errors import OptionError, UnknownNameError

log = logging.getLogger(__name__)


def canonical(name: str) -> str:
    return name.strip().lower().replace("_", "-")


class Registry:
    """Entries of one kind ("model", "dataset"), filled by the modules named in `modules`,
    then by the installed packages' entry points of group `group` (None: no plugins)."""

    def __init__(self, kind: str, modules: Iterable[str] = (), group: str | None = None):
        self.kind = kind
        self.group = group
        self._modules = list(modules)
        self._loaded = False
        self._entries: dict[str, Callable[..., Any]] = {}

    def register(self, fn: Callable[..., Any] | None = None, *, name: str | None = None):
        """Decorator: `@register` or `@register(name="...")`."""

        def add(f: Callable[..., Any]) -> Callable[..., Any]:
            key = canonical(name or f.__name__)
            if key in self._entries and self._entries[key] is not f:
                raise ValueError(f"{self.kind} {key!r} is registered twice")
            self._entries[key] = f
            return f

        return add(fn) if fn is not None else add

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._modules:
                importlib.import_module(module)
            if self.group:
                self._load_plugins()

    def _load_plugins(self) -> None:
        from importlib.metadata import entry_points

        for point in entry_points(group=self.group):
            dist = getattr(point.dist, "name", None) or "an unknown package"
            where = f"{self.kind} plugin {point.name!r} ({point.value}, from {dist})"
            key = canonical(point.name)
            try:
                loaded = point.load()
            except Exception as err:  # a user's package: its failure is not the zoo's crash
                first = (str(err).splitlines() or [""])[0]
                warnings.warn(
                    f"{where} was not loaded: {type(err).__name__}: {first}",
                    RuntimeWarning,
                    stacklevel=4,
                )
                continue
            if isinstance(loaded, types.ModuleType):  # its import registered what it has
                log.debug("loaded %s", where)
                continue
            if not callable(loaded):
                warnings.warn(
                    f"{where} was not loaded: it names a {type(loaded).__name__}, "
                    f"not a {self.kind} builder function",
                    RuntimeWarning,
                    stacklevel=4,
                )
                continue
            if key in self._entries and self._entries[key] is not loaded:
                warnings.warn(
                    f"{where} was not loaded: the {self.kind} {key!r} exists already",
                    RuntimeWarning,
                    stacklevel=4,
                )
                continue
            self._entries[key] = loaded
            log.debug("loaded %s", where)

    def names(self, pattern: str | None = None) -> list[str]:
        """Sorted names, filtered by a shell wildcard such as ``"mlp*"``."""
        self._load()
        names = sorted(self._entries)
        if pattern:
            names = [n for n in names if fnmatch.fnmatchcase(n, canonical(pattern))]
        return names

    def get(self, name: str) -> Callable[..., Any]:
        self._load()
        key = canonical(name)
        if key not in self._entries:
            close = difflib.get_close_matches(key, self._entries, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}{hint} (`zoo {self.kind}s` lists them all)"
            )
        return self._entries[key]

    def options(self, name: str) -> dict[str, Any]:
        """The keyword options entry `name` takes, with their defaults."""
        sig = inspect.signature(self.get(name))
        return {p.name: p.default for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY}

    def check_options(self, name: str, options: dict[str, Any], hidden: Iterable[str] = ()):
        """OptionError naming the first option entry `name` does not take, listing those it
        does (less `hidden`: options set by the caller, not the user)."""
        accepted = self.options(name)
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            takes = [k for k in sorted(accepted) if k not in set(hidden)]
            listed = ", ".join(f"`{k}=`" for k in takes) or "none"
            raise OptionError(
                unknown[0],
                f"{self.kind} {canonical(name)!r} takes no such option (it takes {listed})",
            )
        return accepted

    def __contains__(self, name: str) -> bool:
        self._load()
        return canonical(name) in self._entries


def drop_none(options: dict[str, Any]) -> dict[str, Any]:
    """Options whose value is None are not passed on: the builder's default applies."""
    return {k: v for k, v in options.items() if v is not None}
