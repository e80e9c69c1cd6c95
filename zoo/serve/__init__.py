"""`zoo serve`: a local web page to try trained runs side by side, offline.

Image runs get a picture to choose, drop or draw from their test set, shifted one pixel per
arrow key with a black border, and every model's top classes as bars; tabular runs get a form
with one field per feature. The page's files ship with the package (no file comes from the
internet) and the models run on the server, in Keras, from each run's own model.keras:

- every run works as trained, with no export step and no converter's limits (a model ONNX
  cannot hold still serves), and the numbers shown are the ones `model.predict` gives;
- uploads are decoded and checked on the server (size, and that it is an image at all);
- nothing large is shipped to the browser (onnxruntime-web's WebAssembly is tens of MB).

    >>> from zoo.serve import serve
    >>> serve(["reports/mlp-cifar100-3class-20261127-101500"], port=8000)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from zoo.serve.options import HOST, PORT


def serve(
    run_dirs: Sequence,
    host: str = HOST,
    port: int = PORT,
    *,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the page for `run_dirs` at http://host:port/ until interrupted (Ctrl-C).

    `ready(url)` is called once the server listens (`port=0` picks a free port).
    Raises RunFolderError for a folder that is not a run with a model, OptionError for a
    host or port that cannot be bound.
    """
    from zoo.serve.server import run_server

    run_server(run_dirs, host, port, ready=ready)


__all__ = ["HOST", "PORT", "serve"]
