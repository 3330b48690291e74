"""`cloudstore serve | seed | create-admin | init-db` (also `python -m cloudstore`)."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import socket
import sys
from pathlib import Path

from cloudstore.settings import Settings, SettingsError

DEFAULT_SEED = Path(__file__).resolve().parent.parent / "seed" / "products.json"
log = logging.getLogger("cloudstore")


def _settings() -> Settings:
    try:
        return Settings.from_env().validate()
    except SettingsError as error:
        raise SystemExit(f"cloudstore: {error}") from None


async def _bootstrap(settings: Settings, seed_file: Path | None) -> str:
    """Create schema and tables; load the seed catalog when the Products table is new."""
    from cloudstore.backends import Backends
    from cloudstore.secrets_store import local_jwt_secret
    from cloudstore.shop.catalog import load_products

    if not settings.jwt_secret_key:
        settings = settings.with_overrides(jwt_secret_key=local_jwt_secret(settings.data_dir))
    backends = Backends.from_settings(settings)
    await backends.dynamo.open()
    await backends.postgres.pool.open(wait=True, timeout=30)
    try:
        await backends.postgres.ensure_schema()
        created = await backends.dynamo.ensure_tables()
        if seed_file and settings.products_table in created:
            entries = json.loads(await asyncio.to_thread(seed_file.read_text))
            count = await load_products(backends, entries)
            return f"created tables and loaded {count} products from {seed_file.name}"
        return "tables ready" if not created else f"created {', '.join(created)}"
    finally:
        await backends.dynamo.close()
        await backends.postgres.close()


async def _with_backends(settings: Settings, action):
    from cloudstore.backends import Backends
    from cloudstore.secrets_store import local_jwt_secret

    if not settings.jwt_secret_key:
        settings = settings.with_overrides(jwt_secret_key=local_jwt_secret(settings.data_dir))
    backends = Backends.from_settings(settings)
    await backends.open()
    try:
        return await action(backends)
    finally:
        await backends.close()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _describe(settings: Settings, original: Settings) -> str:
    postgres = (
        "embedded PostgreSQL in " + str(settings.data_dir / "postgres")
        if original.embedded_postgres
        else f"PostgreSQL at {settings.rds_host}:{settings.rds_port}/{settings.rds_database}"
    )
    dynamodb = (
        f"local DynamoDB at {settings.dynamodb_endpoint} (saved to {settings.data_dir})"
        if original.embedded_dynamodb
        else f"DynamoDB at {settings.dynamodb_endpoint or 'AWS ' + settings.aws_region}"
    )
    return f"{postgres}; {dynamodb}"


def serve(args: argparse.Namespace) -> int:
    from hypercorn.config import Config
    from hypercorn.run import run

    from cloudstore.embedded import Runtime, embedded_backends, remove_runtime, write_runtime
    from cloudstore.observability import hypercorn_logconfig

    original = _settings()
    port = args.port or _free_port(args.host)
    with embedded_backends(original, reuse_running=False) as settings:
        # Workers are separate processes: they read the backends from the environment.
        if settings.database_url and original.embedded_postgres:
            os.environ["CLOUDSTORE_DATABASE_URL"] = settings.database_url
        if settings.dynamodb_endpoint:
            os.environ["DYNAMODB_ENDPOINT"] = settings.dynamodb_endpoint
        os.environ["CLOUDSTORE_DATA_DIR"] = str(settings.data_dir)
        summary = asyncio.run(_bootstrap(settings, None if args.no_seed else DEFAULT_SEED))
        write_runtime(
            settings.data_dir,
            Runtime(
                pid=os.getpid(),
                database_url=settings.database_url if original.embedded_postgres else None,
                dynamodb_endpoint=settings.dynamodb_endpoint
                if original.embedded_dynamodb
                else None,
            ),
        )
        config = Config()
        config.application_path = "cloudstore.asgi:app"
        config.bind = [f"{args.host}:{port}"]
        config.workers = args.workers
        config.worker_class = args.worker_class
        config.keep_alive_timeout = 5
        config.graceful_timeout = 10
        # hypercorn's own lines as JSON, like the app's (and not printed twice).
        config.logconfig_dict = hypercorn_logconfig(original.log_level)
        print(f"Cloud Store: {summary}", flush=True)
        print(f"Cloud Store: using {_describe(settings, original)}", flush=True)
        print(f"Cloud Store is running at http://{args.host}:{port} (Ctrl+C to stop)", flush=True)
        try:
            return run(config)
        finally:
            remove_runtime(settings.data_dir)
            print("Cloud Store: stopping backends and saving data", flush=True)


def seed(args: argparse.Namespace) -> int:
    from cloudstore.embedded import embedded_backends
    from cloudstore.shop.catalog import load_products

    path = Path(args.file)
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"cloudstore seed: cannot read {path}: {error}") from None
    if not isinstance(entries, list):
        raise SystemExit(f"cloudstore seed: {path} must hold a JSON array of products")
    with embedded_backends(_settings(), reuse_running=True) as settings:
        asyncio.run(_bootstrap(settings, None))
        count = asyncio.run(_with_backends(settings, lambda b: load_products(b, entries)))
    print(f"loaded {count} products from {path}")
    return 0


def create_admin(args: argparse.Namespace) -> int:
    from cloudstore.embedded import embedded_backends
    from cloudstore.shop.accounts import create_admin as make_admin

    with embedded_backends(_settings(), reuse_running=True) as settings:
        asyncio.run(_bootstrap(settings, None))
        user = asyncio.run(
            _with_backends(
                settings,
                lambda b: make_admin(b, email=args.email, password=args.password, name=args.name),
            )
        )
    print(f"{user.email} is an admin ({user.user_id})")
    return 0


def init_db(_args: argparse.Namespace) -> int:
    from cloudstore.embedded import embedded_backends

    with embedded_backends(_settings(), reuse_running=True) as settings:
        print(asyncio.run(_bootstrap(settings, DEFAULT_SEED)))
    return 0


def default_worker_class() -> str:
    """uvloop where it is installed (not on Windows), as in deploy/hypercorn.toml."""
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="cloudstore", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    run_cmd = commands.add_parser("serve", help="run the store with hypercorn")
    run_cmd.add_argument("--host", default="127.0.0.1")
    run_cmd.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    run_cmd.add_argument("--workers", type=int, default=1)
    run_cmd.add_argument(
        "--worker-class", default=default_worker_class(), choices=["asyncio", "uvloop"]
    )
    run_cmd.add_argument("--no-seed", action="store_true", help="do not load the seed catalog")
    run_cmd.set_defaults(func=serve)

    seed_cmd = commands.add_parser("seed", help="load products from a JSON file (upsert)")
    seed_cmd.add_argument("--file", default=str(DEFAULT_SEED))
    seed_cmd.set_defaults(func=seed)

    admin_cmd = commands.add_parser("create-admin", help="create or promote an admin")
    admin_cmd.add_argument("--email", required=True)
    admin_cmd.add_argument("--password", required=True)
    admin_cmd.add_argument("--name")
    admin_cmd.set_defaults(func=create_admin)

    init_cmd = commands.add_parser("init-db", help="create schema and tables, seed if new")
    init_cmd.set_defaults(func=init_db)
    return top


def main(argv: list[str] | None = None) -> int:
    from cloudstore.private_files import private_umask

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper())
    private_umask()
    args = parser().parse_args(argv)
    from cloudstore.domain.errors import DomainError

    try:
        return args.func(args) or 0
    except DomainError as error:
        print(f"cloudstore {args.command}: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
