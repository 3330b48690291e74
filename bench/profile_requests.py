#!/usr/bin/env python3
"""Where a request's time goes: the store in-process (no HTTP server), one path at a time.

    python bench/profile_requests.py [--products 10000] [--requests 500] [--profile PATH]

Sets up the same backends as bench/run.py (a local DynamoDB and a fresh PostgreSQL
database), loads N generated products, then times each scenario path through Quart's test
client and prints milliseconds per request. With `--profile PATH` it also runs that path
under cProfile and prints the 30 costliest functions. The test client skips hypercorn and
the sockets, so these numbers are the app's own cost per request; bench/run.py measures
the whole stack.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import SCENARIOS, postgres  # noqa: E402


async def time_paths(app, paths: list[str], count: int, profile: str | None) -> None:
    client = app.test_client()
    for path in paths:
        for _ in range(20):  # warm-up: memos, template compilation
            response = await client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        started = time.perf_counter()
        for _ in range(count):
            await client.get(path)
        elapsed = (time.perf_counter() - started) / count * 1000
        print(f"  {path:45} {elapsed:6.2f} ms/request", flush=True)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            await client.get(profile)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        if os.environ.get("PROFILE_CALLERS"):
            pstats.Stats(profiler).print_callers(os.environ["PROFILE_CALLERS"])


async def serve_and_time(args, env: dict) -> None:
    os.environ.update(env)
    from cloudstore import create_app

    app = create_app()
    async with app.test_app():
        catalog = app.extensions["cloudstore"].catalog
        await catalog.index()  # waits for the first load, which runs in the background
        client = app.test_client()
        listing = await (await client.get("/api/products?limit=1")).get_json()
        product_id = listing["data"][0]["product_id"]
        paths = [path.format(product_id=product_id) for _, path in SCENARIOS]
        profile = args.profile.format(product_id=product_id) if args.profile else None
        await time_paths(app, paths, args.requests, profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", help="a path to profile, e.g. / or /products/{product_id}")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cloudstore-profile-") as tmp_name, postgres() as pg:
        tmp = Path(tmp_name)
        from cloudstore.localdynamo import start_local_dynamodb

        dynamo = start_local_dynamodb(tmp / "dynamo.json", save_interval=3600)
        try:
            env = {
                "DYNAMODB_ENDPOINT": dynamo.endpoint,
                "CLOUDSTORE_DATABASE_URL": pg,
                "JWT_SECRET_KEY": uuid.uuid4().hex * 2,
                "CLOUDSTORE_DATA_DIR": str(tmp / "data"),
                "LOG_LEVEL": "WARNING",
            }
            products = tmp / "products.json"
            generate = [sys.executable, str(ROOT / "seed/generate.py"), "--count"]
            subprocess.run(  # noqa: S603
                [*generate, str(args.products), "--out", str(products)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            subprocess.run(  # noqa: S603
                [sys.executable, "-m", "cloudstore", "seed", "--file", str(products)],
                check=True,
                env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                cwd=tmp,
                stdout=subprocess.DEVNULL,
            )
            asyncio.run(serve_and_time(args, env))
        finally:
            dynamo.stop()


if __name__ == "__main__":
    main()
