"""The curl walk-through of docs/api.md, run as it is written against `hubrota serve --demo`
on a free port: the shell blocks of its Walk-through section are taken from the document, so
the document and this test cannot drift apart."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"


def walkthrough_blocks(text: str) -> list[str]:
    """The ```sh blocks between '## Walk-through' and the next '## ' heading."""
    section = text.split("\n## Walk-through\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_doc_has_every_step_of_the_walkthrough():
    script = "\n".join(walkthrough_blocks(DOC.read_text(encoding="utf-8")))
    for step in (
        "create-token",
        "/data/uploads",
        "/data/drafts/",
        "/save",
        "/runs/",
        "/rota/versions",
        "/contract/",
    ):
        assert step in script, step


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl, jq")
def test_the_walkthrough_runs_against_the_demo(tmp_path):
    bin_dir = Path(sys.executable).parent
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HUBROTA_DEMO_INSTANCE": str(tmp_path / "instance"),
        "HUBROTA_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [str(bin_dir / "hubrota"), "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{env['HUBROTA_URL']}/api/v1/openapi.json", timeout=2)
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "the demo did not start"
                time.sleep(0.3)
        script = "set -euo pipefail\n" + "\n".join(walkthrough_blocks(DOC.read_text()))
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        out = done.stdout
        assert '"key": "C0001"' in out and "Farah Jenkins-Shah" in out  # the preview
        assert '"version": 2' in out  # saved
        assert '"status": "done"' in out  # the run
        assert "published version 1" in out
        rows = [line.split("\t") for line in out.splitlines() if "\t" in line]
        assert rows and all(re.fullmatch(r"\d{4}-W\d{2}", r[1]) for r in rows)  # contract
        assert all(r[4] in ("true", "false") for r in rows)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
