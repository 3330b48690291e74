#!/usr/bin/env python3
"""Catalog latency while a stream of huge-number requests arrives (issue 11, item 1).

    python bench/number_flood.py [--seconds 10] [--flooders 4] [--workers 1]

Starts its own backends (as bench/run.py: a local DynamoDB and a fresh PostgreSQL database),
loads the 18 seed products and serves the store with hypercorn (one worker by default, so the
flood and the catalog share one event loop: the worst case). Then, for `--seconds` each:

1. idle: one client reads `/api/products?limit=24` back to back (keep-alive) and records
   each request's latency;
2. flood: the same, while `--flooders` clients (a signed-in customer each) POST to
   `/api/cart`, `/api/orders` and `/api/products?limit=` bodies and queries holding numbers
   like `1e999999999` and 5,000 nines, as fast as the answers come.

Prints p50/p99 of the catalog reads in both phases, their ratio, and how the flood was
answered (all 400). Before the numbers were bounded, the first `1e999999999` held the worker
for minutes (`int(Decimal("1e999999"))` alone took 36 s here), so the catalog stopped.
Needs no wrk; loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from run import HOST, Hypercorn, http_json, postgres, wait_http  # noqa: E402

CATALOG = "/api/products?limit=24"
HUGE = ["1e999999999", "-1e999999999", "9" * 5000, "1e-999999999"]
# The control: the same requests, refused (400) for an ordinary out-of-range number.
SMALL = ["0", "-1", "100000", "0.5"]
ORDER = (
    '{"items": [%s], "shipping_address": {"name": "B", "phone": "0812 3456 7890", '
    '"address": "Jl. 1", "city": "Jakarta", "postal_code": "10220"}}'
)


def floods(literals: list[str]):
    """(method, path, body) requests that each carry one of `literals` as a number."""
    for literal in literals:
        item = f'{{"product_id": "PROD-LAMBDA-10M", "quantity": {literal}}}'
        yield "POST", "/api/cart", f'{{"items": [{item}]}}'
        yield "POST", "/api/orders", ORDER % item
        yield "GET", f"/api/products?limit={literal}", None


def reader(port: int, until: float, latencies: list[float]) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    while time.monotonic() < until:
        started = time.perf_counter()
        connection.request("GET", CATALOG)
        reply = connection.getresponse()
        reply.read()
        assert reply.status == 200, reply.status
        latencies.append((time.perf_counter() - started) * 1000)


def flooder(port: int, token: str, until: float, answers: Counter, literals: list[str]) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=600)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    requests = list(floods(literals))
    while time.monotonic() < until:
        for method, path, body in requests:
            connection.request(method, path, body=body, headers=headers)
            reply = connection.getresponse()
            reply.read()
            answers[reply.status] += 1


def measure(
    port: int, seconds: float, flood: int, tokens: list[str], literals: list[str] = HUGE
) -> tuple[list, Counter]:
    latencies: list[float] = []
    answers: Counter = Counter()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=reader, args=(port, until, latencies))]
    threads += [
        threading.Thread(target=flooder, args=(port, tokens[i], until, answers, literals))
        for i in range(flood)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, answers


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--flooders", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--worker-class", default="uvloop", choices=["asyncio", "uvloop"])
    args = parser.parse_args(argv)
    args.keep_alive = 5
    with tempfile.TemporaryDirectory(prefix="cloudstore-flood-") as name, postgres() as pg_url:
        tmp = Path(name)
        from cloudstore.localdynamo import start_local_dynamodb

        dynamo = start_local_dynamodb(tmp / "dynamo.json", save_interval=3600)
        store = None
        try:
            env = {
                **os.environ,
                "DYNAMODB_ENDPOINT": dynamo.endpoint,
                "CLOUDSTORE_DATABASE_URL": pg_url,
                "JWT_SECRET_KEY": uuid.uuid4().hex * 2,
                "CLOUDSTORE_DATA_DIR": str(tmp / "data"),
                "LOG_LEVEL": "ERROR",
                "BCRYPT_ROUNDS": "4",
                "PYTHONPATH": str(ROOT),
            }
            subprocess.run(  # noqa: S603
                [sys.executable, "-m", "cloudstore", "seed"],
                check=True,
                env=env,
                cwd=tmp,
                stdout=subprocess.DEVNULL,
            )
            store = Hypercorn("cloudstore.asgi:app", args, env, tmp, tmp)
            wait_http(store.url + CATALOG, timeout=300, process=store.process)
            tokens = []
            for _ in range(args.flooders):
                body = {"name": "F", "email": f"f-{uuid.uuid4().hex}@example.com"}
                status, reply = http_json(
                    "POST", store.url + "/api/auth/register", {**body, "password": "rahasia1"}
                )
                assert status == 201, reply
                tokens.append(reply["token"])
            measure(store.port, 2, 0, tokens)  # warm-up
            idle, _ = measure(store.port, args.seconds, 0, tokens)
            control, control_answers = measure(
                store.port, args.seconds, args.flooders, tokens, SMALL
            )
            busy, answers = measure(store.port, args.seconds, args.flooders, tokens, HUGE)
        finally:
            if store is not None:
                store.stop()
            dynamo.stop()

    def summary(latencies: list[float], answers: Counter | None = None) -> dict:
        row = {
            "catalog_reads": len(latencies),
            "p50_ms": round(percentile(latencies, 0.5), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "mean_ms": round(statistics.fmean(latencies), 1),
        }
        if answers is not None:
            row["flood_answers"] = dict(answers)
            row["flood_per_second"] = round(sum(answers.values()) / args.seconds)
        return row

    result = {
        "idle": summary(idle),
        "ordinary bad numbers": summary(control, control_answers),
        "huge numbers": summary(busy, answers),
    }
    huge, ordinary = result["huge numbers"], result["ordinary bad numbers"]
    result["huge vs ordinary: catalog p50 ratio"] = round(huge["p50_ms"] / ordinary["p50_ms"], 2)
    result["huge vs ordinary: catalog p99 ratio"] = round(huge["p99_ms"] / ordinary["p99_ms"], 2)
    result["huge vs idle: catalog p50 ratio"] = round(huge["p50_ms"] / result["idle"]["p50_ms"], 2)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
