"""`cloudstore serve | seed | create-admin | disable-user | enable-user | set-role | migrate |
init-db | outbox` (also `python -m cloudstore`)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import getpass
import importlib.metadata
import importlib.util
import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cloudstore.domain.accounts import ROLES
from cloudstore.settings import Settings, SettingsError

if TYPE_CHECKING:
    from cloudstore.stores.dynamo import TableChanges

DEFAULT_SEED = Path(__file__).resolve().parent.parent / "seed" / "products.json"
log = logging.getLogger("cloudstore")


def _settings() -> Settings:
    try:
        return Settings.from_env().validate()
    except SettingsError as error:
        raise SystemExit(f"cloudstore: {error}") from None


async def _bootstrap(settings: Settings, seed_file: Path | None) -> str:
    """Apply pending migrations; load the seed catalog when the Products table is new. One
    line saying what it did (`serve`, `seed` and `create-admin` start with this)."""
    return "; ".join(await _migrate(settings, seed_file))


async def _migrate(settings: Settings, seed_file: Path | None) -> list[str]:
    """The one migration path (`serve`, `migrate`, `init-db`, ...): PostgreSQL migrations,
    then DynamoDB tables and indexes, then the seed catalog into a new Products table.
    Returns what it did, a line per backend (and one for the seed)."""
    from cloudstore.backends import Backends
    from cloudstore.secrets_store import local_jwt_secret
    from cloudstore.shop.catalog import load_products

    if not settings.jwt_secret_key:
        settings = settings.with_overrides(jwt_secret_key=local_jwt_secret(settings.data_dir))
    backends = Backends.from_settings(settings)
    await backends.dynamo.open()
    await backends.postgres.pool.open(wait=True, timeout=30)  # waits for a starting server
    try:
        applied = await backends.postgres.migrate()
        changes = await backends.dynamo.ensure_tables()
        lines = [
            "PostgreSQL: applied " + ", ".join(map(str, applied))
            if applied
            else "PostgreSQL: no migration pending",
            _describe_tables(changes),
        ]
        if seed_file and settings.products_table in changes.created:
            entries = json.loads(await asyncio.to_thread(seed_file.read_text))
            counts = await load_products(backends, entries)
            lines.append(f"loaded {counts.created} products from {seed_file.name}")
        return lines
    finally:
        await backends.dynamo.close()
        await backends.postgres.close()


def _describe_tables(changes: TableChanges) -> str:
    done = [f"created table {name}" for name in changes.created]
    done += [f"added index {index}" for index in changes.indexes]
    return "DynamoDB: " + (", ".join(done) if done else "tables and indexes ready")


async def _pending(settings: Settings) -> list[str]:
    """What `_migrate` would do, a line per pending step; changes nothing."""
    from cloudstore.stores.dynamo import Dynamo
    from cloudstore.stores.postgres import Postgres

    postgres = Postgres(settings.postgres_conninfo(), timeout=settings.backend_timeout)
    dynamo = Dynamo(settings)
    await dynamo.open()
    try:
        pending = [f"PostgreSQL: apply {m.label}" for m in await postgres.pending_migrations()]
        pending += [f"DynamoDB: {step}" for step in await dynamo.pending_tables()]
        return pending
    finally:
        await dynamo.close()


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


def _port_in_use(host: str, port: int) -> str | None:
    """One line for the operator when `host:port` cannot be listened on, else None. Binds
    as hypercorn does (SO_REUSEADDR), so a port in TIME_WAIT is not reported as taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as error:
        return f"cannot listen on {host}:{port}: {error.strerror or error}"
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return (
                        f"port {port} on {host} is already in use (another cloudstore or "
                        "program listens there); stop it or choose another with --port "
                        "(--port 0 picks a free one)"
                    )
                return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def describe_backends(settings: Settings, original: Settings) -> list[str]:
    """What `serve` uses, a line per backend, for the operator at start: PostgreSQL's host
    and database (never a password), DynamoDB's endpoint or AWS region, and mail and media
    when those settings exist. `original` is the configuration before embedded backends
    were started for it."""
    from psycopg.conninfo import conninfo_to_dict

    if original.embedded_postgres:
        postgres = "embedded, in " + str(settings.data_dir / "postgres")
    else:
        parts = conninfo_to_dict(settings.postgres_conninfo())
        host = str(parts.get("host") or "localhost")
        where = host if host.startswith("/") else f"{host}:{parts.get('port') or 5432}"
        postgres = f"{where}, database {parts.get('dbname') or parts.get('user') or '?'}"
        if parts.get("sslmode"):
            postgres += f", sslmode {parts['sslmode']}"
    if original.embedded_dynamodb:
        dynamodb = f"local, {settings.dynamodb_endpoint} (saved to {settings.data_dir})"
    elif settings.dynamodb_on_aws:
        credentials = (
            "access key from the settings"
            if settings.aws_access_key_id
            else "the default AWS credential chain"
        )
        where = f"endpoint {settings.dynamodb_endpoint}, " if settings.dynamodb_endpoint else ""
        dynamodb = f"AWS region {settings.aws_region}, {where}{credentials}"
    else:
        dynamodb = f"endpoint {settings.dynamodb_endpoint}"
    lines = [f"PostgreSQL: {postgres}", f"DynamoDB: {dynamodb}"]
    # Other backends are listed when this release has their settings.
    for label, name in (("mail", "mail_backend"), ("media", "media_backend")):
        value = getattr(settings, name, None)
        if value:
            lines.append(f"{label}: {value}")
    return lines


def serve(args: argparse.Namespace) -> int:
    from hypercorn.config import Config
    from hypercorn.run import run

    from cloudstore.embedded import (
        Runtime,
        embedded_backends,
        lock_data_dir,
        remove_runtime,
        write_runtime,
    )
    from cloudstore.lifeline import become_subreaper
    from cloudstore.observability import hypercorn_logconfig

    original = _settings()
    port = args.port or _free_port(args.host)
    problem = _port_in_use(args.host, port)
    if problem:  # before any backend starts, in one line rather than a traceback
        raise SystemExit(f"cloudstore serve: {problem}")
    # Before anything starts: a second serve on this data dir stops here, at once.
    lock_data_dir(original.data_dir, f"http://{args.host}:{port}")
    become_subreaper()  # the postmaster pg_ctl detaches is ours to collect (lifeline.py)
    with embedded_backends(original, reuse_running=False, supervise=True) as settings:
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
        for line in describe_backends(settings, original):
            print(f"Cloud Store: using {line}", flush=True)
        print(f"Cloud Store is running at http://{args.host}:{port} (Ctrl+C to stop)", flush=True)
        try:
            return run(config)
        except OSError as error:
            # Taken between the check above and hypercorn's bind: still one line.
            if error.errno != errno.EADDRINUSE:
                raise
            raise SystemExit(
                f"cloudstore serve: {_port_in_use(args.host, port) or error}"
            ) from None
        finally:
            remove_runtime(settings.data_dir)
            print("Cloud Store: stopping backends and saving data", flush=True)


def seed(args: argparse.Namespace) -> int:
    from cloudstore.shop.catalog import load_products

    path = Path(args.file)
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"cloudstore seed: cannot read {path}: {error}") from None
    if not isinstance(entries, list):
        raise SystemExit(f"cloudstore seed: {path} must hold a JSON array of products")
    counts = _on_backends(lambda b: load_products(b, entries, overwrite=args.overwrite))
    print(f"{path}: {counts}")
    return 0


def _on_backends(action):
    """Run `action(backends)` (a coroutine) on the backends of a running store, or embedded
    ones started for it, once the schema is in place; returns what it returns."""
    from cloudstore.embedded import embedded_backends

    with embedded_backends(_settings(), reuse_running=True) as settings:
        asyncio.run(_bootstrap(settings, None))
        return asyncio.run(_with_backends(settings, action))


def _interactive() -> bool:
    return sys.stdin.isatty()


def _admin_password(args: argparse.Namespace) -> str:
    """The new admin's password, never from the command line (shell history, `ps`): the
    first line of standard input with `--password-stdin`, else asked twice at the terminal."""
    if args.password is not None:
        raise SystemExit(
            "cloudstore create-admin: --password is no longer accepted (it would stay in "
            "the shell history and show in ps); type the password when asked, or pipe it "
            "with --password-stdin"
        )
    if args.password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not password:
            raise SystemExit("cloudstore create-admin: no password on standard input")
        return password
    if not _interactive():
        raise SystemExit(
            "cloudstore create-admin: no terminal to ask for the password on; "
            "pipe it with --password-stdin"
        )
    password = getpass.getpass("Password for the admin: ")
    if getpass.getpass("The same password again: ") != password:
        raise SystemExit("cloudstore create-admin: the two passwords differ; nothing changed")
    return password


def create_admin(args: argparse.Namespace) -> int:
    from cloudstore.auth import check_password_rules
    from cloudstore.shop.accounts import create_admin as make_admin

    password = _admin_password(args)
    check_password_rules(password)  # before any backend starts
    user = _on_backends(
        lambda b: make_admin(b, email=args.email, password=password, name=args.name)
    )
    print(f"{user.email} is an admin ({user.user_id})")
    return 0


def _account_command(action, describe) -> int:
    """Run `action(backends)` on the account tools' backends and print `describe(user)`."""
    print(describe(_on_backends(action)))
    return 0


def disable_user(args: argparse.Namespace) -> int:
    from cloudstore.shop.accounts import disable_user as disable

    return _account_command(
        lambda b: disable(b, args.email),
        lambda user: f"{user.email} is disabled ({user.user_id}); its sessions are ended",
    )


def enable_user(args: argparse.Namespace) -> int:
    from cloudstore.shop.accounts import enable_user as enable

    return _account_command(
        lambda b: enable(b, args.email),
        lambda user: f"{user.email} is enabled ({user.user_id}); it may log in again",
    )


def set_role(args: argparse.Namespace) -> int:
    from cloudstore.shop.accounts import set_role as change_role

    return _account_command(
        lambda b: change_role(b, args.email, args.role),
        lambda user: (
            f"{user.email} is now {'an' if user.role == 'admin' else 'a'} "
            f"{user.role} ({user.user_id})"
        ),
    )


def migrate(args: argparse.Namespace) -> int:
    from cloudstore.embedded import embedded_backends

    with embedded_backends(_settings(), reuse_running=True) as settings:
        if not args.check:
            print("\n".join(asyncio.run(_migrate(settings, None))))
            return 0
        pending = asyncio.run(_pending(settings))
    print("\n".join(pending) if pending else "nothing pending")
    return 1 if pending else 0


def init_db(_args: argparse.Namespace) -> int:
    from cloudstore.embedded import embedded_backends

    with embedded_backends(_settings(), reuse_running=True) as settings:
        print("\n".join(asyncio.run(_migrate(settings, DEFAULT_SEED))))
    return 0


def outbox(args: argparse.Namespace) -> int:
    """Print the latest messages of MAIL_BACKEND=outbox: date, recipient, subject, links."""
    from cloudstore.stores.mail import links_in, outbox_entries

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise SystemExit(f"cloudstore: {error}") from None
    entries = outbox_entries(settings.outbox_dir, last=args.last)
    if not entries:
        print(f"no mail in {settings.outbox_dir}")
        return 0
    for entry in entries:
        message = entry.message
        print(f"Date:    {message['Date']}")
        print(f"To:      {message['To']}")
        print(f"Subject: {message['Subject']}")
        for link in links_in(message):
            print(f"Link:    {link}")
        print(f"File:    {entry.path}")
        print()
    return 0


def default_worker_class() -> str:
    """uvloop where it is installed (not on Windows), as in deploy/hypercorn.toml."""
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def version() -> str:
    """The installed package's version (its metadata, as pip sees it)."""
    try:
        return importlib.metadata.version("cloudstore")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


class _ShowDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows an option's default, except for flags and options without one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or action.required:
            return action.help
        return super()._get_help_string(action)


class _Commands(argparse._SubParsersAction):
    """Subcommands whose --help shows each option's default, like the top level."""

    def add_parser(self, name: str, **kwargs):
        kwargs.setdefault("formatter_class", _ShowDefaults)
        return super().add_parser(name, **kwargs)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="cloudstore",
        description=__doc__,
        formatter_class=_ShowDefaults,
    )
    top.add_argument("--version", action="version", version=f"cloudstore {version()}")
    top.register("action", "parsers", _Commands)
    commands = top.add_subparsers(dest="command", required=True)

    run_cmd = commands.add_parser("serve", help="run the store with hypercorn")
    run_cmd.add_argument("--host", default="127.0.0.1", help="address to listen on")
    run_cmd.add_argument("--port", type=int, default=5000, help="port; 0 picks a free one")
    run_cmd.add_argument("--workers", type=int, default=1, help="hypercorn worker processes")
    run_cmd.add_argument(
        "--worker-class",
        default=default_worker_class(),
        choices=["asyncio", "uvloop"],
        help="event loop of the workers (uvloop where installed)",
    )
    run_cmd.add_argument("--no-seed", action="store_true", help="do not load the seed catalog")
    run_cmd.set_defaults(func=serve)

    seed_cmd = commands.add_parser(
        "seed", help="load products from a JSON file (existing ones are left alone)"
    )
    seed_cmd.add_argument("--file", default=str(DEFAULT_SEED), help="a JSON array of products")
    seed_cmd.add_argument(
        "--overwrite",
        action="store_true",
        help="replace every field of products that exist already, stock included",
    )
    seed_cmd.set_defaults(func=seed)

    admin_cmd = commands.add_parser(
        "create-admin",
        help="create or promote an admin (asks for the password, or reads it from stdin)",
    )
    admin_cmd.add_argument("--email", required=True, help="the account's email")
    admin_cmd.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password (6+ characters) from the first line of standard input "
        "instead of asking for it twice",
    )
    # Gone: a password argument lands in shell history and `ps`. Kept only to say so.
    admin_cmd.add_argument("--password", help=argparse.SUPPRESS)
    admin_cmd.add_argument("--name", help="display name (a new account: Administrator)")
    admin_cmd.set_defaults(func=create_admin)

    disable_cmd = commands.add_parser(
        "disable-user", help="switch an account off: its logins fail, its sessions end"
    )
    disable_cmd.add_argument("--email", required=True, help="the account's email")
    disable_cmd.set_defaults(func=disable_user)

    enable_cmd = commands.add_parser("enable-user", help="switch a disabled account back on")
    enable_cmd.add_argument("--email", required=True, help="the account's email")
    enable_cmd.set_defaults(func=enable_user)

    role_cmd = commands.add_parser("set-role", help="make an account an admin or a customer")
    role_cmd.add_argument("--email", required=True, help="the account's email")
    role_cmd.add_argument("role", choices=ROLES, help="the new role")
    role_cmd.set_defaults(func=set_role)

    migrate_cmd = commands.add_parser(
        "migrate", help="apply pending PostgreSQL migrations and DynamoDB tables/indexes"
    )
    migrate_cmd.add_argument(
        "--check",
        action="store_true",
        help="change nothing; list what is pending and exit 1 if anything is",
    )
    migrate_cmd.set_defaults(func=migrate)

    init_cmd = commands.add_parser("init-db", help="migrate, then seed a new catalog")
    init_cmd.set_defaults(func=init_db)

    outbox_cmd = commands.add_parser(
        "outbox", help="print the latest mail written by MAIL_BACKEND=outbox (the default)"
    )
    outbox_cmd.add_argument(
        "--last", type=int, default=10, metavar="N", help="how many (newest last; 10)"
    )
    outbox_cmd.set_defaults(func=outbox)
    return top


def main(argv: list[str] | None = None) -> int:
    from cloudstore.private_files import private_umask

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper())
    private_umask()
    args = parser().parse_args(argv)
    from cloudstore.domain.errors import BackendUnavailable, DomainError
    from cloudstore.stores.migrations import MigrationError

    try:
        return args.func(args) or 0
    except DomainError as error:
        print(f"cloudstore {args.command}: {error.message}", file=sys.stderr)
        return 2
    except (MigrationError, BackendUnavailable) as error:
        print(f"cloudstore {args.command}: {error}{_cause(error)}", file=sys.stderr)
        return 2


def _cause(error: BaseException) -> str:
    """Why a backend was unavailable, for the operator: " (NoCredentialsError: Unable to
    locate credentials)", or nothing."""
    cause = error.__cause__
    if cause is None:
        return ""
    detail = " ".join(str(cause).split())[:200]
    return f" ({type(cause).__name__}: {detail})" if detail else f" ({type(cause).__name__})"


if __name__ == "__main__":
    sys.exit(main())
