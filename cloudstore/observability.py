"""Structured logs: every log line is one JSON object, and every request gets one line.

- `configure_logging(level)` installs the JSON formatter on the root logger once per process
  (create_app calls it; calling it again only changes the level).
- `RequestLogMiddleware` (ASGI) takes `X-Request-ID` from the request when it is sane, or makes
  one, returns it on every response, and logs one `cloudstore.request` line per request:
  method, path (never the query string), status, duration_ms, request_id, client_ip and a
  shortened user agent. No headers with credentials (Authorization, Cookie), no bodies.
- Every line logged while a request is handled carries its `request_id`, and fields passed as
  `extra=` (e.g. the `audit` dict of `cloudstore.audit`) come out as JSON fields.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import json
import logging
import re
import sys
import time
import uuid

REQUEST_ID_HEADER = b"x-request-id"
MAX_REQUEST_ID = 128
_SANE_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")  # MAX_REQUEST_ID
USER_AGENT_LIMIT = 200
# Probes hit these every few seconds: their successful answers are logged at DEBUG.
PROBE_PATHS = frozenset({"/health", "/health/ready"})

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cloudstore_request_id", default=None
)
request_log = logging.getLogger("cloudstore.request")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime", "taskName"}
)


def current_request_id() -> str | None:
    """The id of the request being handled (for error pages, outgoing calls...)."""
    return request_id_var.get()


def _json_default(value):
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if hasattr(value, "as_map"):  # a value object kept as a map (a product's image)
        return value.as_map()
    return str(value)  # Decimal, Path, UUID, ...


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, pid and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": _dt.datetime.fromtimestamp(record.created, _dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=_json_default, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is now (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class JsonHandler(_StderrHandler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())


CHATTY_LIBRARIES = ("botocore", "aiobotocore", "boto3", "urllib3", "psycopg", "asyncio")


def configure_logging(level: str | int = "INFO") -> None:
    """Route the root logger through one JSON handler on stderr; idempotent.

    Plain stream handlers left by `logging.basicConfig` are replaced; other handlers (a test
    runner's capture, a file handler an operator added) are kept.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler and handler.stream in (
            sys.stderr,
            sys.stdout,
            sys.__stderr__,
            sys.__stdout__,
        ):
            root.removeHandler(handler)
    if not any(isinstance(h, JsonHandler) for h in root.handlers):
        root.addHandler(JsonHandler())
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # At DEBUG these libraries log whole request bodies (addresses, phone numbers) and
    # connection strings; they stay at WARNING even when LOG_LEVEL=DEBUG.
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def hypercorn_logconfig(level: str = "INFO") -> dict:
    """hypercorn's own lines ("Running on ...", errors) as JSON too (see deploy/hypercorn.toml,
    which spells the same dictionary in TOML)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "cloudstore.observability.JsonFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "hypercorn.error": {"handlers": ["json"], "level": level, "propagate": False},
        },
    }


def sane_request_id(raw: bytes | None) -> str | None:
    """A client's X-Request-ID, if it is printable ASCII without spaces and ≤ 128 chars."""
    if not raw:
        return None
    try:
        value = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    return value if _SANE_REQUEST_ID.fullmatch(value) else None


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """ASGI middleware: request id in and out, one JSON log line per request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = scope.get("headers") or []
        incoming = next((v for k, v in headers if k.lower() == REQUEST_ID_HEADER), None)
        request_id = sane_request_id(incoming) or new_request_id()
        user_agent = next((v for k, v in headers if k.lower() == b"user-agent"), b"")
        token = request_id_var.set(request_id)
        status = 500
        logged = False

        def log_line() -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            path = scope.get("path", "")
            level = logging.INFO
            if path in PROBE_PATHS and status < 400:
                level = logging.DEBUG
            elif status >= 500:
                level = logging.WARNING
            if not request_log.isEnabledFor(level):
                return
            client = scope.get("client")
            request_log.log(
                level,
                "%s %s %s",
                scope.get("method", ""),
                path,
                status,
                extra={
                    "request_id": request_id,
                    "method": scope.get("method", ""),
                    "path": path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "client_ip": client[0] if client else None,
                    "user_agent": user_agent.decode("latin-1")[:USER_AGENT_LIMIT] or None,
                    "http_version": scope.get("http_version"),
                },
            )

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = dict(message)
                message["headers"] = [
                    *(
                        (k, v)
                        for k, v in message.get("headers", [])
                        if k.lower() != REQUEST_ID_HEADER
                    ),
                    (REQUEST_ID_HEADER, request_id.encode("ascii")),
                ]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                log_line()

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log_line()
            request_id_var.reset(token)
