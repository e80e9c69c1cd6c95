"""Optional packages: which format needs which, and the message that names the extra."""

from __future__ import annotations

import importlib

from zoo.errors import MissingExtraError

# module -> the name pip installs it under
PACKAGES = {
    "tf2onnx": "tf2onnx",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "ai_edge_litert": "ai-edge-litert",
    "PIL": "pillow",
}


def require(modules: tuple[str, ...], what: str, extra: str) -> None:
    """MissingExtraError naming `extra` unless every module in `modules` imports.

    An import that fails for any reason counts as missing: a half-installed package is as
    useless as an absent one, and the same pip command repairs both.
    """
    missing = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(PACKAGES.get(module, module))
    if missing:
        raise MissingExtraError(what, missing, extra)
