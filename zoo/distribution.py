"""The name the zoo is installed by, and the command that adds an extra.

The package index's `zoo` is someone else's (an empty 2016 stub), so the distribution is
`keras-zoo`; the import name and the command stay `zoo`.
"""

from __future__ import annotations

DISTRIBUTION = "keras-zoo"


def install_hint(extra: str) -> str:
    """The command that installs one of the zoo's extras ("export", "ray", "jax", ...)."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"
