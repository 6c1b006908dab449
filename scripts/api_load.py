"""Latency of the JSON API under load: a rota folder and its rota.csv published in a fresh
database, served by gunicorn on 127.0.0.1, and `wrk` (Debian's package) run against
GET /api/v1/rota/versions/1 and GET /api/v1/contract/?version=1 with a manager's token.

    .venv/bin/hubrota bench generated --size ics --out /tmp/ics --time-limit 90
    .venv/bin/python scripts/api_load.py /tmp/ics/ics-0 /tmp/ics/ics-0.rota.csv

Prints wrk's latency distribution (p50 … p99) and requests/s for each URL. Not a test: the
figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(folder: Path, rota_csv: Path, database: str) -> str:
    """The folder's files as version 1 of a federation, the rota as published version 1;
    a manager's token."""
    from scheduler.io.load import load_problem, load_rota
    from web import create_app
    from web.db import new_session
    from web.models import Dataset, DatasetFile, Rota, RotaAssignment
    from web.services.accounts import create_user, ensure_federation
    from web.services.published import publish
    from web.services.tokens import create_token

    app = create_app({"DATABASE_URL": database, "SECRET_KEY": "load-test"})
    problem = load_problem(folder)
    rota = load_rota(problem, rota_csv)
    with app.app_context(), new_session(app) as db:
        federation = ensure_federation(db, "bench", "Bench Federation")
        user = create_user(
            db, federation=federation, email="manager@bench", password="x" * 12, role="manager"
        )
        dataset = Dataset(federation_id=federation.id, version=1, note="load test")
        dataset.files = [
            DatasetFile(name=p.name, content=p.read_text(encoding="utf-8"))
            for p in sorted(folder.iterdir())
            if p.is_file()
        ]
        db.add(dataset)
        db.flush()
        row = Rota(federation_id=federation.id, dataset_id=dataset.id, source="optimiser")
        row.assignments = [RotaAssignment.of(a) for a in rota]
        db.add(row)
        db.flush()
        publish(db, federation.id, user.id, row, "load test")
        secret = create_token(db, user, name="load test").secret
        db.commit()
    print(
        f"{len(problem.clinicians)} clinicians, {len(problem.sessions)} sessions, "
        f"{len(rota)} assignments",
        file=sys.stderr,
    )
    return secret


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("rota_csv", type=Path)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration per URL")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="hubrota-load-"))
    database = f"sqlite:///{scratch / 'load.sqlite'}"
    token = _prepare(args.folder, args.rota_csv, database)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "HUBROTA_SECRET_KEY": "load-test",
        "HUBROTA_API_RATE_LIMIT": "1000000 per minute",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers", str(args.workers),
            "--threads", str(args.threads),
            "--bind", f"127.0.0.1:{port}",
            "--log-level", "warning",
            "web:create_app()",
        ],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        for path in ("/rota/versions/1", "/contract/?version=1"):
            request = urllib.request.Request(
                base + path, headers={"Authorization": f"Bearer {token}"}
            )
            for _ in range(args.workers * args.threads * 2):  # every worker parses once first
                started = time.perf_counter()
                size = len(urllib.request.urlopen(request, timeout=120).read())
            print(f"\nGET {path}: {size} bytes, warm in {time.perf_counter() - started:.3f} s")
            result = subprocess.run(
                [
                    "wrk", "--latency", "-t", "2", "-c", str(args.connections),
                    "-d", f"{args.seconds}s", "-H", f"Authorization: Bearer {token}",
                    base + path,
                ],
                capture_output=True,
                text=True,
                check=True,
            )  # fmt: skip
            print(result.stdout)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
