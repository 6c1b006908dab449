"""What the browser tests share: Debian's chromium and its flags, where screenshots go, and the
app behind a real HTTP server on a free local port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that reaches out: this machine's network is closed, and chromium's
# background connections would otherwise be refused many at a time.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # git-ignored


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """`app` served by a threaded HTTP server on a free port of 127.0.0.1; yields its URL."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
