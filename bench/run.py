#!/usr/bin/env python3
"""Cloud Store benchmark: the store against a hello-world ceiling, back to back, with wrk.

    python bench/run.py [--products 10000] [--duration 10] [--connections 32] [--workers 2]
                        [--worker-class uvloop|asyncio] [--keep-alive 5] [--login-load]
                        [--checkout] [--only SCENARIO ...] [--rounds 3] [--json OUT]

Needs Debian's wrk (`apt-get install wrk`, /usr/bin/wrk); installs nothing. Starts its own
backends on free ports: a local DynamoDB (cloudstore.localdynamo, temp state file) and a
fresh PostgreSQL database (the machine's 127.0.0.1:5432 as postgres/trust if it answers,
else pgserver). Loads N generated products with `cloudstore seed --file`, then serves
bench/hello.py and the store (cloudstore.asgi:app) with the same hypercorn settings and
runs wrk against the ceiling and each scenario: per scenario, `--rounds` pairs of (ceiling,
scenario) back to back, reporting the median pair's ratio. DynamoDB requests are counted by the
workers themselves (CLOUDSTORE_COUNT_DYNAMODB_DIR). Loopback only; every load is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
HOST = "127.0.0.1"

SCENARIOS = [
    ("api list", "/api/products?limit=24"),
    ("api category", "/api/products?category=compute&limit=24"),
    ("api search", "/api/products?q=instance&limit=24"),
    ("html catalog", "/"),
    ("html search", "/?q=instance"),
    ("html product", "/products/{product_id}"),
]
API_TARGET, HTML_TARGET = 0.5, 0.3


# ---- processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_http(url: str, timeout: float = 120.0, process=None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"bench: the server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - loopback
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {url} did not answer 200 within {timeout:.0f}s")
        time.sleep(0.3)


def wait_all_workers(url: str, timeout: float = 600.0) -> None:
    """Every worker loads the catalog in the background after it starts: wait until 30
    requests in a row, each on a new connection (so on any worker), answer quickly."""
    deadline = time.monotonic() + timeout
    streak = 0
    while streak < 30:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=30) as reply:  # noqa: S310 - loopback
                ok = reply.status == 200
        except (urllib.error.URLError, OSError):
            ok = False
        streak = streak + 1 if ok and time.monotonic() - started < 0.25 else 0
        if time.monotonic() > deadline:
            raise SystemExit("bench: the store's workers did not all load the catalog in time")
        if not streak:
            time.sleep(0.5)


def http_json(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Hypercorn:
    """`hypercorn APP` with the given settings, in its own process group."""

    def __init__(
        self, app: str, args: argparse.Namespace, env: dict, cwd: Path, logs: Path
    ) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        cmd = [
            sys.executable,
            "-m",
            "hypercorn",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--keep-alive",
            str(args.keep_alive),
            "--graceful-timeout",
            "3",
            app,
        ]
        self.log = open(logs / f"hypercorn-{self.port}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv
            cmd, cwd=cwd, env=env, start_new_session=True, stdout=self.log, stderr=self.log
        )

    def workers(self) -> list:
        import psutil

        return psutil.Process(self.process.pid).children(recursive=True)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


@contextlib.contextmanager
def postgres():
    """A fresh database: the machine's PostgreSQL if it answers, else pgserver."""
    try:
        with socket.create_connection((HOST, 5432), timeout=1):
            machine = True
    except OSError:
        machine = False
    if machine:
        import psycopg

        admin = f"postgresql://postgres@{HOST}:5432/postgres"
        name = f"cloudstore_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql://postgres@{HOST}:5432/{name}"
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="bench-pg-") as directory:
        server = pgserver.get_server(directory, cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


# ---- wrk ------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, duration: float, connections: int, threads: int = 2, script=None, env=None):
    cmd = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run(  # noqa: S603 - fixed argv
        [*cmd, url], capture_output=True, text=True, check=True, env=env
    ).stdout
    stats = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "requests": int(re.search(r"(\d+) requests in", out)[1]),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M)[1]),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M)[1]),
        "errors": 0,
    }
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        stats["errors"] += int(match[1])
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    ):
        stats["errors"] += sum(int(x) for x in match.groups())
    return stats


# ---- DynamoDB request counts (written by the workers, see stores/dynamo.py) -----------


def dynamo_counts(directory: Path, settle: float = 1.3) -> dict[str, int]:
    time.sleep(settle)  # each worker rewrites its file once a second
    total: dict[str, int] = {}
    for path in directory.glob("*.json"):
        with contextlib.suppress(ValueError, OSError):
            for op, n in json.loads(path.read_text()).items():
                total[op] = total.get(op, 0) + n
    return total


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)}


# ---- the run --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (<= 15)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="uvloop", choices=["asyncio", "uvloop"])
    parser.add_argument("--keep-alive", type=int, default=5, help="hypercorn keep-alive (s)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--only", nargs="*", help="scenario names to run (default: all)")
    parser.add_argument("--login-load", action="store_true", help="catalog p99 under 8 logins")
    parser.add_argument("--checkout", action="store_true", help="count a checkout's requests")
    parser.add_argument(
        "--rounds", type=int, default=3, help="(ceiling, scenario) pairs per scenario"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    args.duration = min(args.duration, 15.0)
    if not Path(WRK).exists():
        raise SystemExit("bench: wrk not found; apt-get install wrk")

    results: dict = {"args": vars(args) | {"json": str(args.json) if args.json else None}}
    with tempfile.TemporaryDirectory(prefix="cloudstore-bench-") as tmp_name, postgres() as pg_url:
        tmp = Path(tmp_name)
        sys.path.insert(0, str(ROOT))
        from cloudstore.localdynamo import start_local_dynamodb

        dynamo = start_local_dynamodb(tmp / "dynamo.json", save_interval=3600)
        servers: list[Hypercorn] = []
        try:
            env = {
                **os.environ,
                "DYNAMODB_ENDPOINT": dynamo.endpoint,
                "CLOUDSTORE_DATABASE_URL": pg_url,
                "JWT_SECRET_KEY": uuid.uuid4().hex * 2,
                "CLOUDSTORE_DATA_DIR": str(tmp / "data"),
                "LOG_LEVEL": "WARNING",
                "BCRYPT_ROUNDS": os.environ.get("BCRYPT_ROUNDS", "12"),
                # One buyer may place many orders in a run: lift the open-orders cap.
                "MAX_PENDING_ORDERS": "1000000",
                # Every benchmark client is one address: raise the per-client limits.
                "LOGIN_LIMIT": os.environ.get("LOGIN_LIMIT", "100000/hour"),
                "REGISTER_LIMIT": os.environ.get("REGISTER_LIMIT", "100000/hour"),
                "PYTHONPATH": str(ROOT),
            }
            products = tmp / "products.json"
            started = time.perf_counter()
            subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    str(ROOT / "seed/generate.py"),
                    "--count",
                    str(args.products),
                    "--out",
                    str(products),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            subprocess.run(  # noqa: S603
                [sys.executable, "-m", "cloudstore", "seed", "--file", str(products)],
                check=True,
                env=env,
                cwd=tmp,
                stdout=subprocess.DEVNULL,
            )
            results["seed_seconds"] = round(time.perf_counter() - started, 1)
            print(f"loaded {args.products} products in {results['seed_seconds']}s", flush=True)

            counts_dir = tmp / "counts"
            hello = Hypercorn(
                "hello:app", args, {**os.environ, "PYTHONPATH": str(BENCH)}, BENCH, tmp
            )
            store = Hypercorn(
                "cloudstore.asgi:app",
                args,
                {**env, "CLOUDSTORE_COUNT_DYNAMODB_DIR": str(counts_dir)},
                tmp,
                tmp,
            )
            servers += [hello, store]
            wait_http(hello.url + "/", process=hello.process)
            started = time.perf_counter()
            wait_http(store.url + "/api/products?limit=1", timeout=600, process=store.process)
            wait_all_workers(store.url + "/api/products?limit=1")
            results["store_ready_seconds"] = round(time.perf_counter() - started, 1)
            _, listing = http_json("GET", store.url + "/api/products?limit=1")
            product_id = listing["data"][0]["product_id"]

            rows = []

            def measure(name: str, url: str) -> dict:
                """`--rounds` pairs of (ceiling, scenario), back to back: the ratio is the
                median of the pairs' ratios, so a noisy moment skews one pair, not the row."""
                wrk(url, 2, args.connections, args.threads)  # warm-up
                before = dynamo_counts(counts_dir)
                pairs = []
                for _ in range(args.rounds):
                    paired = wrk(hello.url + "/", args.duration, args.connections, args.threads)
                    run = wrk(url, args.duration, args.connections, args.threads)
                    pairs.append((run["rps"] / paired["rps"], run, paired))
                used = delta(dynamo_counts(counts_dir), before)
                pairs.sort(key=lambda pair: pair[0])
                ratio, stats, paired = pairs[len(pairs) // 2]
                stats["ratio"], stats["ceiling_rps"] = ratio, paired["rps"]
                stats["ceiling_p99"] = paired["p99"]
                stats["ratios"] = [round(pair[0], 3) for pair in pairs]
                stats["errors"] = sum(pair[1]["errors"] for pair in pairs)
                stats["dynamodb"] = used
                views = sum(pair[1]["requests"] for pair in pairs)
                stats["dynamodb_per_view"] = sum(used.values()) / max(views, 1)
                stats["name"], stats["path"] = name, url.split(str(store.port), 1)[-1]
                print(
                    f"  {name:14} {stats['rps']:8.0f} req/s  p50 {stats['p50']:7.2f} ms  "
                    f"p99 {stats['p99']:7.2f} ms  ratio {ratio:.2f} (of {stats['ratios']})  "
                    f"errors {stats['errors']}",
                    flush=True,
                )
                return stats

            ceiling = wrk(hello.url + "/", 2, args.connections, args.threads)
            ceiling = wrk(hello.url + "/", args.duration, args.connections, args.threads)
            ceiling["name"] = "ceiling (hello)"
            print(
                f"  ceiling        {ceiling['rps']:8.0f} req/s  p50 {ceiling['p50']:7.2f} ms  "
                f"p99 {ceiling['p99']:7.2f} ms",
                flush=True,
            )
            for name, path in SCENARIOS:
                if args.only and name not in args.only:
                    continue
                rows.append(measure(name, store.url + path.format(product_id=product_id)))
            results["ceiling"], results["scenarios"] = ceiling, rows

            results["rss_mb"] = [round(p.memory_info().rss / 2**20) for p in store.workers()]

            if args.login_load:
                email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "bench-pass-1"
                status, _ = http_json(
                    "POST",
                    store.url + "/api/auth/register",
                    {"name": "Bench", "email": email, "password": password},
                )
                assert status == 201, status
                body = json.dumps({"email": email, "password": password})
                catalog = store.url + "/api/products?limit=24"

                def logging_in() -> subprocess.Popen:
                    return subprocess.Popen(  # noqa: S603
                        [
                            WRK,
                            "-t1",
                            "-c8",
                            f"-d{args.duration + 4:g}s",
                            "--latency",
                            "--timeout",
                            "10s",
                            "-s",
                            str(BENCH / "login.lua"),
                            store.url + "/api/auth/login",
                        ],
                        env={**os.environ, "BENCH_LOGIN_BODY": body},
                        stdout=subprocess.PIPE,
                        text=True,
                    )

                # Rounds of (idle, under login load), back to back; the median round counts.
                rounds = []
                for _ in range(args.rounds):
                    idle = wrk(catalog, args.duration, args.connections, args.threads)
                    login = logging_in()
                    time.sleep(2)
                    loaded = wrk(catalog, args.duration, args.connections, args.threads)
                    login_out = login.communicate(timeout=60)[0]
                    logins = re.search(r"Requests/sec:\s+([\d.]+)", login_out)
                    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", login_out)
                    rounds.append(
                        {
                            "p99_ratio": round(loaded["p99"] / idle["p99"], 3),
                            "idle_p99": idle["p99"],
                            "loaded_p99": loaded["p99"],
                            "idle_rps": idle["rps"],
                            "loaded_rps": loaded["rps"],
                            "logins_per_s": float(logins[1]) if logins else None,
                            "login_non2xx": int(failed[1]) if failed else 0,
                        }
                    )
                rounds.sort(key=lambda r: r["p99_ratio"])
                results["login_load"] = {
                    **rounds[len(rounds) // 2],
                    "p99_ratios": [r["p99_ratio"] for r in rounds],
                    "login_non2xx": sum(r["login_non2xx"] for r in rounds),
                }
                median = results["login_load"]
                print(
                    f"  login load: catalog p99 idle {median['idle_p99']:.2f} ms, "
                    f"with 8 logging in {median['loaded_p99']:.2f} ms "
                    f"({median['p99_ratio']:.2f}x of {median['p99_ratios']}); "
                    f"{median['logins_per_s']} logins/s",
                    flush=True,
                )

            if args.checkout:
                email = f"buyer-{uuid.uuid4().hex[:8]}@example.com"
                _, reg = http_json(
                    "POST",
                    store.url + "/api/auth/register",
                    {"name": "Buyer", "email": email, "password": "buyer-pass-1"},
                )
                headers = {"Authorization": f"Bearer {reg['token']}"}
                _, listing = http_json("GET", store.url + "/api/products?limit=50&sort=price_asc")
                item = next(p for p in listing["data"] if p["stock"] > 0)
                address = {
                    "name": "Budi",
                    "phone": "+62 812 0000 0000",
                    "address": "Jl. Bench 1",
                    "city": "Jakarta",
                    "postal_code": "10220",
                }
                before = dynamo_counts(counts_dir)
                status, _ = http_json(
                    "POST",
                    store.url + "/api/orders",
                    {
                        "items": [{"product_id": item["product_id"], "quantity": 1}],
                        "shipping_address": address,
                    },
                    headers,
                )
                used = delta(dynamo_counts(counts_dir), before)
                # only what the checkout request itself asked for, not the refreshers' polls
                used = {k: v for k, v in used.items() if k.startswith("request:")}
                results["checkout"] = {
                    "status": status,
                    "dynamodb": used,
                    "requests": sum(used.values()),
                }
                print(f"  checkout: HTTP {status}, DynamoDB {used}", flush=True)
        finally:
            for server in servers:
                server.stop()
            dynamo.stop()

    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def print_table(results: dict) -> None:
    a = results["args"]
    print(
        f"\n{a['products']} products, {a['connections']} connections, {a['duration']:g}s each, "
        f"{a['workers']} workers ({a['worker_class']}), keep-alive {a['keep_alive']}s, "
        f"median of {a['rounds']} (ceiling, scenario) pairs per row"
    )
    print(
        "| scenario | req/s | p50 ms | p99 ms | paired ceiling req/s | its p99 ms "
        "| ratio to ceiling | target | DynamoDB req/view | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    c = results["ceiling"]
    print(
        f"| ceiling: hello `/` | {c['rps']:.0f} | {c['p50']:.2f} | {c['p99']:.2f} | | | 1.00 "
        f"| | | {c['errors']} |"
    )
    for row in results["scenarios"]:
        target = API_TARGET if row["name"].startswith("api") else HTML_TARGET
        mark = "ok" if row["ratio"] >= target else "MISS"
        print(
            f"| {row['name']} `{row['path']}` | {row['rps']:.0f} | {row['p50']:.2f} "
            f"| {row['p99']:.2f} | {row['ceiling_rps']:.0f} | {row['ceiling_p99']:.2f} "
            f"| {row['ratio']:.2f} "
            f"| ≥{target} {mark} | {row['dynamodb_per_view']:.4f} | {row['errors']} |"
        )
    print(f"\nworker RSS (MB): {results['rss_mb']}")
    if "login_load" in results:
        print(f"login load: {results['login_load']}")
    if "checkout" in results:
        print(f"checkout: {results['checkout']}")


if __name__ == "__main__":
    sys.exit(main())
