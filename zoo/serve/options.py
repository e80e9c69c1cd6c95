"""Where `zoo serve` listens by default, and the extra it needs."""

from __future__ import annotations

HOST = "127.0.0.1"  # this machine only; see `zoo.serve.server.exposure_warning`
PORT = 8000
EXTRA = "serve"  # `pip install 'keras-zoo[serve]'`: Pillow, which decodes the uploads
