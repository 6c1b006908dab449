"""Load benchmark of the calendar feed endpoint (GET /feeds/<token>.ics) under gunicorn.

    python scripts/bench_feeds.py [--requests 6000] [--seconds 120] [--clients 2]
        [--threads 4] [--workers 2] [--worker-threads 4] [--links 300] [--seed 1]
        [--json FILE] [--check]

Generates the `ics` size (2,000 clinicians; --seed, default 1), saves it as version 1 of a
federation in a fresh SQLite database, gives it a quick greedy rota (sessions in date order, each
post filled from the clinicians who offered that day, at most one session a day and their weekly
cap), makes private links for --links clinicians, every hub and the whole federation, and builds
the feeds once. Then it starts gunicorn on 127.0.0.1 (gthread workers, keep-alive) and fetches
random links from --clients processes of --threads keep-alive connections each, in two phases:
plain GETs (200 with the calendar), then conditional GETs with the ETag (If-None-Match: 304).
Each phase makes at most --requests requests and the whole run stops after --seconds; the client
shares the machine with the server, as it would on one small host.

Prints, per phase, requests/s, p50, p90, p99 and max latency and the status counts. Target on 2
cores: ≥ 500 requests/s and p99 ≤ 50 ms. Exit 1 if a request fails or (with --check) a target
is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.bench.generate import generate  # noqa: E402
from scheduler.domain import Assignment, Problem, Status  # noqa: E402

HOST = "127.0.0.1"  # never anything else: this is a local benchmark
TARGET_RPS = 500
TARGET_P99_MS = 50.0


# ---- the federation, its rota and its links -------------------------------------------------


def greedy_rota(problem: Problem) -> tuple[Assignment, ...]:
    """A quick plausible rota: posts filled in date order from the clinicians who offered the
    day (and its hours), at most one session a day each and their weekly cap."""
    by_day: dict[tuple[str, object], list] = defaultdict(list)
    for (clinician_id, day), offers in problem.availability.items():
        by_day[day].append((clinician_id, offers))
    clinicians = {c.clinician_id: c for c in problem.clinicians}
    busy_days: set[tuple[str, object]] = set()
    weekly: Counter = Counter()
    rota = []
    for session in sorted(problem.sessions, key=lambda s: (s.date, s.start, s.hub_id)):
        week = session.date.isocalendar()[:2]
        offered = [
            cid
            for cid, offers in by_day.get(session.date, ())
            if any(
                o.weight == 0
                and o.status != Status.UNAVAILABLE
                and (o.start is None or o.start <= session.start and session.end <= o.end)
                for o in offers
            )
        ]
        for index, post in enumerate(session.posts):
            filled = 0
            for clinician_id in offered:
                clinician = clinicians[clinician_id]
                if filled >= post.target:
                    break
                if (
                    (clinician_id, session.date) in busy_days
                    or not post.accepts(clinician)
                    or (clinician.hubs and session.hub_id not in clinician.hubs)
                    or weekly[clinician_id, week] >= clinician.max_sessions_per_week
                ):
                    continue
                rota.append(Assignment(session.session_id, index, clinician_id, False))
                busy_days.add((clinician_id, session.date))
                weekly[clinician_id, week] += 1
                filled += 1
    return tuple(sorted(rota))


def prepare(instance: Path, links: int, seed: int) -> tuple[str, list[str], dict[str, str]]:
    """The database URL, the tokens of the links made, and the environment of the server."""
    env = {
        "HUBROTA_SECRET_KEY": secrets.token_urlsafe(32),
        "HUBROTA_FEED_SECRET": secrets.token_urlsafe(32),
        "DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite'}",
    }
    os.environ.update(env)
    from web import create_app
    from web.db import engine_of, new_session
    from web.models import Dataset, DatasetFile, Federation, Rota, RotaAssignment
    from web.services.demo import files_of
    from web.services.feed_links import issue, served_feed
    from web.services.problems import parse_files

    folder = instance / "ics"
    generate("ics", seed, folder)
    files, labels = files_of(folder)
    problem = parse_files(files).problem
    started = time.perf_counter()
    rota = greedy_rota(problem)
    print(
        f"{len(problem.clinicians):,} clinicians, {len(problem.sessions):,} sessions, "
        f"{len(rota):,} assignments (greedy, {time.perf_counter() - started:.1f} s)",
        file=sys.stderr,
    )
    app = create_app({"DATABASE_URL": env["DATABASE_URL"]})
    tokens = []
    with app.app_context(), new_session(app) as db:
        federation = Federation(slug="bench", name="Bench Federation")
        db.add(federation)
        db.flush()
        dataset = Dataset(
            federation_id=federation.id,
            version=1,
            note=f"ics seed {seed}",
            labels=json.dumps(labels),
        )
        dataset.files = [DatasetFile(name=n, content=t) for n, t in sorted(files.items())]
        db.add(dataset)
        db.flush()
        row = Rota(federation_id=federation.id, dataset_id=dataset.id, source="manual")
        row.assignments = [RotaAssignment.of(a) for a in rota]
        db.add(row)
        working = sorted({a.clinician_id for a in rota})
        chosen = random.Random(seed).sample(working, min(links, len(working)))
        feeds = (
            [("clinician", c) for c in chosen]
            + [("hub", h.hub_id) for h in problem.hubs]
            + [("all", "")]
        )
        for kind, key in feeds:
            link, token = issue(db, federation.id, kind, key, None)
            tokens.append(token)
        db.commit()
        started = time.perf_counter()
        served_feed(db, federation, link)  # the first fetch builds every feed
        print(
            f"{len(tokens)} links; feeds built in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    engine_of(app).dispose()
    return env["DATABASE_URL"], tokens, env


# ---- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(
    port: int, env: dict[str, str], workers: int, threads: int, log: Path
) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    command = [
        gunicorn,
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
        "web:create_app()",
    ]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start-up: see {log}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    raise SystemExit("gunicorn did not start within 60 s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # its own session: gunicorn and its workers
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# ---- the client -------------------------------------------------------------------------------


def fetch_etags(port: int, tokens: list[str]) -> dict[str, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    etags = {}
    for token in tokens:
        connection.request("GET", f"/feeds/{token}.ics")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"warm-up: a link answered {response.status}")
        etags[token] = response.getheader("ETag")
    connection.close()
    return etags


def _client(args: tuple) -> tuple[list[float], dict[int, int], int]:
    """One client process: `threads` keep-alive connections until `count` requests are made
    or `deadline` (time.time()) passes. Latencies in ms, status counts, bytes read."""
    port, tokens, etags, count, threads, deadline, seed = args
    latencies: list[float] = []
    statuses: Counter = Counter()
    read = [0]
    lock = threading.Lock()
    left = [count]

    def run(worker: int) -> None:
        rng = random.Random(seed * 1000 + worker)
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        mine: list[float] = []
        seen: Counter = Counter()
        size = 0
        while time.time() < deadline:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            token = rng.choice(tokens)
            headers = {"If-None-Match": etags[token]} if etags else {}
            started = time.perf_counter()
            try:
                connection.request("GET", f"/feeds/{token}.ics", headers=headers)
                response = connection.getresponse()
                size += len(response.read())
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
                status = 0
            mine.append((time.perf_counter() - started) * 1000)
            seen[status] += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            statuses.update(seen)
            read[0] += size

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, dict(statuses), read[0]


def phase(
    name: str,
    port: int,
    tokens: list[str],
    etags: dict[str, str],
    requests: int,
    clients: int,
    threads: int,
    deadline: float,
) -> dict:
    share = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    jobs = [(port, tokens, etags, share[i], threads, deadline, i + 1) for i in range(clients)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(_client, jobs)
    seconds = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r[0])
    statuses: Counter = Counter()
    for r in results:
        statuses.update(r[1])
    done = len(latencies)
    quantiles = statistics.quantiles(latencies, n=100) if done >= 2 else [0.0] * 99
    figures = {
        "phase": name,
        "requests": done,
        "seconds": round(seconds, 2),
        "requests_per_second": round(done / seconds, 1) if seconds else 0.0,
        "p50_ms": round(quantiles[49], 2),
        "p90_ms": round(quantiles[89], 2),
        "p99_ms": round(quantiles[98], 2),
        "max_ms": round(latencies[-1], 2) if done else 0.0,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "bytes_per_response": round(sum(r[2] for r in results) / done) if done else 0,
    }
    print(
        f"{name:<22} {figures['requests']:>6} requests in {figures['seconds']:>6.1f} s  "
        f"{figures['requests_per_second']:>7.1f} req/s  p50 {figures['p50_ms']:>6.1f} ms  "
        f"p90 {figures['p90_ms']:>6.1f} ms  p99 {figures['p99_ms']:>6.1f} ms  "
        f"max {figures['max_ms']:>6.1f} ms  {figures['statuses']}  "
        f"{figures['bytes_per_response']:,} B/response"
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000, help="most requests per phase")
    parser.add_argument("--seconds", type=float, default=120.0, help="most seconds in all")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="connections per client")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--links", type=int, default=300, help="clinician links to fetch")
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed")
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 below {TARGET_RPS} req/s or above {TARGET_P99_MS} ms p99",
    )
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    results = measure(args)
    failed = any(k not in ("200", "304") for r in results for k in r["statuses"])
    missed = [
        r["phase"]
        for r in results
        if r["requests_per_second"] < TARGET_RPS or r["p99_ms"] > TARGET_P99_MS
    ]
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "cores": os.cpu_count(),
                    "phases": results,
                    "target": {"requests_per_second": TARGET_RPS, "p99_ms": TARGET_P99_MS},
                    "missed": missed,
                },
                indent=2,
            )
            + "\n"
        )
    if failed:
        print("some requests failed", file=sys.stderr)
    if missed:
        print(
            f"below the target (≥ {TARGET_RPS} req/s, p99 ≤ {TARGET_P99_MS:g} ms): "
            + ", ".join(missed),
            file=sys.stderr,
        )
    return 1 if failed or (args.check and missed) else 0


def measure(args: argparse.Namespace) -> list[dict]:
    """Prepares the federation and its links, serves them and runs both phases."""
    deadline = time.time() + args.seconds
    instance = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    try:
        _url, tokens, env = prepare(instance, args.links, args.seed)
        port = free_port()
        server = start_gunicorn(
            port, env, args.workers, args.worker_threads, instance / "gunicorn.log"
        )
        try:
            etags = fetch_etags(port, tokens)
            print(
                f"gunicorn on {HOST}:{port}: {args.workers} workers × {args.worker_threads} "
                f"threads; {args.clients} clients × {args.threads} connections; "
                f"{os.cpu_count()} cores",
                file=sys.stderr,
            )
            return [
                phase(
                    name,
                    port,
                    tokens,
                    tags,
                    args.requests,
                    args.clients,
                    args.threads,
                    deadline,
                )
                for name, tags in (("GET", {}), ("GET If-None-Match", etags))
            ]
        finally:
            stop(server)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
