"""Is this a notebook? Found out by looking, never by importing a notebook package.

IPython is imported only when something already runs it (Keras's own import of it is deferred,
see `zoo.backend.imported`); a Jupyter kernel (JupyterLab,
classic Notebook, Colab, VS Code) is an IPython shell with a `kernel`. Terminal IPython has no
kernel, so scripts and terminals keep their text progress.
"""

from __future__ import annotations

from typing import Any

from zoo.backend import imported


def kernel_shell() -> Any | None:
    """The shell of the running Jupyter kernel, or None (plain Python, terminal IPython)."""
    ipython = imported("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return shell


def in_notebook() -> bool:
    """True inside a Jupyter kernel, where rich output is shown."""
    return kernel_shell() is not None


def publish(bundle: dict[str, Any], display_id: str, update: bool) -> None:
    """Show a mimebundle in the cell's output (`update`: replace the one shown under
    `display_id`, in place). Only called in a kernel, where IPython is already loaded."""
    from IPython.display import display, update_display

    if update:
        update_display(bundle, raw=True, display_id=display_id)
    else:
        display(bundle, raw=True, display_id=display_id)


def show(obj: Any) -> None:
    """Display an object in the cell's output now (IPython's `display`)."""
    from IPython.display import display

    display(obj)
