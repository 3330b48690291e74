"""Sending mail: one interface (`MailTransport.send(EmailMessage)`), three services chosen by
MAIL_BACKEND, and the queue that keeps sending out of the requests.

- `outbox` (the zero-config default): each message becomes an `.eml` file in
  `<data dir>/outbox/`; `cloudstore outbox` prints the latest (as Django's file backend).
- `ses`: Amazon SES v2 `SendEmail` with the raw message, through aioboto3 with the AWS_*
  credentials of the settings (AWS_ENDPOINT_URL_SESV2 points it elsewhere, as botocore
  reads it).
- `smtp`: SMTP_URL with aiosmtplib, one connection per message.

`MailQueue` is an in-memory asyncio queue with one worker task per process, started with the
backends and drained at shutdown. A job builds its message when its turn comes (looking up
the recipient, rendering) and sends it; a failure is retried with exponential backoff, and a
message that fails every attempt is logged (never raised: a request never fails, or waits,
because of mail). What is still queued or waiting for a retry when the process dies is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from cloudstore.settings import Settings, parse_smtp_url

log = logging.getLogger(__name__)

ATTEMPTS = 4
FIRST_RETRY_SECONDS = 2.0
SEND_TIMEOUT_SECONDS = 20.0
DRAIN_SECONDS = 10.0
MAX_QUEUED = 10_000


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire: CRLF lines; UTF-8 headers only when an address
    needs them (a non-ASCII local part), encoded words otherwise."""
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


class MailTransport(Protocol):
    name: str

    async def open(self) -> None: ...

    async def send(self, message: EmailMessage) -> None: ...

    async def close(self) -> None: ...


class OutboxTransport:
    """Each message as `<UTC time>-<random>.eml` in `directory` (0600, written whole and
    renamed into place, so a reader never sees half a message)."""

    name = "outbox"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def open(self) -> None:
        pass

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, wire_bytes(message))

    def _write(self, data: bytes) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        now = time.time_ns()  # names sort in the order messages were written
        seconds, nanoseconds = divmod(now, 1_000_000_000)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(seconds))
        name = f"{stamp}.{nanoseconds:09d}Z-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / f".{name}.partial"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(partial, self.directory / name)

    async def close(self) -> None:
        pass


class SesTransport:
    """Amazon SES v2 SendEmail with the raw MIME message (text and HTML parts as built)."""

    name = "ses"

    def __init__(self, settings: Settings, endpoint_url: str | None = None) -> None:
        self.settings = settings
        self.endpoint_url = endpoint_url
        self.client: Any = None
        self._stack: Any = None

    async def open(self) -> None:
        from contextlib import AsyncExitStack

        import aioboto3
        from botocore.config import Config

        s = self.settings
        session = aioboto3.Session(
            aws_access_key_id=s.aws_access_key_id,
            aws_secret_access_key=s.aws_secret_access_key,
            aws_session_token=s.aws_session_token,
            region_name=s.aws_region,
        )
        config = Config(
            connect_timeout=5,
            read_timeout=SEND_TIMEOUT_SECONDS,
            retries={"total_max_attempts": 1},  # the queue retries, with backoff
        )
        self._stack = AsyncExitStack()
        self.client = await self._stack.enter_async_context(
            session.client("sesv2", endpoint_url=self.endpoint_url, config=config)
        )

    async def send(self, message: EmailMessage) -> None:
        if self.client is None:
            await self.open()
        recipients = [address.addr_spec for address in message["To"].addresses]
        await self.client.send_email(
            FromEmailAddress=message["From"].addresses[0].addr_spec,
            Destination={"ToAddresses": recipients},
            Content={"Raw": {"Data": wire_bytes(message)}},
        )

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
            self.client = None


class SmtpTransport:
    """SMTP_URL through aiosmtplib: smtps:// is TLS from the start; smtp:// upgrades with
    STARTTLS whenever the server offers it."""

    name = "smtp"

    def __init__(self, url: str | None) -> None:
        self.server = parse_smtp_url(url)

    async def open(self) -> None:
        pass

    async def send(self, message: EmailMessage) -> None:
        import aiosmtplib

        server = self.server
        await aiosmtplib.send(
            message,
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.use_tls,
            start_tls=None if not server.use_tls else False,
            timeout=SEND_TIMEOUT_SECONDS,
        )

    async def close(self) -> None:
        pass


def transport_for(settings: Settings) -> MailTransport:
    """The transport MAIL_BACKEND names."""
    if settings.mail_backend == "ses":
        return SesTransport(settings)
    if settings.mail_backend == "smtp":
        return SmtpTransport(settings.smtp_url)
    return OutboxTransport(settings.outbox_dir)


# A job makes its message when its turn comes (None: nothing to send after all).
MailJob = Callable[[], Awaitable[EmailMessage | None]]


@dataclass(slots=True)
class _Queued:
    job: MailJob
    what: str  # what the message is, for the log ("order paid"); never an address
    attempt: int = 1


class MailQueue:
    """One worker per process sends queued messages in order, retrying failures with
    exponential backoff (`first_retry`, doubled each time, `attempts` in all)."""

    def __init__(
        self,
        transport: MailTransport,
        *,
        attempts: int = ATTEMPTS,
        first_retry: float = FIRST_RETRY_SECONDS,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self.transport = transport
        self.attempts = attempts
        self.first_retry = first_retry
        self.max_queued = max_queued
        self.sent = 0
        self.failed = 0
        self._queue: asyncio.Queue[_Queued] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._retries: set[asyncio.TimerHandle] = set()
        self._outstanding = 0
        self._idle: asyncio.Event | None = None

    def retry_delay(self, failed_attempt: int) -> float:
        """Seconds before the next attempt: `first_retry`, doubled after each failure."""
        return self.first_retry * 2 ** (failed_attempt - 1)

    async def start(self) -> None:
        """Start the worker (in the serving event loop)."""
        self._queue = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()
        await self.transport.open()
        self._worker = asyncio.create_task(self._work(), name="cloudstore-mail")

    def submit(self, job: MailJob, what: str) -> None:
        """Queue a message; never raises and never waits."""
        if self._queue is None or self._idle is None:
            log.error("mail not sent (%s): the mail queue is not running", what)
            return
        if self._outstanding >= self.max_queued:
            log.error("mail not sent (%s): %d messages are queued already", what, self._outstanding)
            return
        self._outstanding += 1
        self._idle.clear()
        self._queue.put_nowait(_Queued(job, what))

    async def drained(self) -> None:
        """Wait until every submitted message is sent or given up (tests, shutdown)."""
        if self._idle is not None:
            await self._idle.wait()

    async def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Send what is queued (for at most `drain_seconds`), then stop; what is left
        (messages waiting for a retry included) is logged as lost."""
        if self._worker is None:
            return
        assert self._queue is not None
        # What is queued is sent; a message waiting for its retry is not waited for.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), drain_seconds)
        for handle in self._retries:
            handle.cancel()
        self._retries.clear()
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None
        if self._outstanding:
            log.error("mail queue stopped with %d messages unsent", self._outstanding)
        await self.transport.close()

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            try:
                await self._attempt(item)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - _attempt logs; the worker must live on
                log.exception("mail worker error")
                self._done()
            finally:
                self._queue.task_done()

    async def _attempt(self, item: _Queued) -> None:
        try:
            message = await asyncio.wait_for(item.job(), SEND_TIMEOUT_SECONDS)
            if message is not None:
                await asyncio.wait_for(self.transport.send(message), SEND_TIMEOUT_SECONDS * 1.5)
                self.sent += 1
        except Exception as error:  # noqa: BLE001 - any failure is retried, then logged
            if item.attempt >= self.attempts:
                self.failed += 1
                log.error(
                    "mail not sent (%s) after %d attempts: %s: %s",
                    item.what,
                    item.attempt,
                    type(error).__name__,
                    error,
                )
                self._done()
                return
            delay = self.retry_delay(item.attempt)
            log.warning(
                "mail (%s) attempt %d failed (%s); retrying in %.1f s",
                item.what,
                item.attempt,
                type(error).__name__,
                delay,
            )
            item.attempt += 1
            self._retry_later(item, delay)
            return
        self._done()

    def _retry_later(self, item: _Queued, delay: float) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue
        assert queue is not None

        def again() -> None:
            self._retries.discard(handle)
            queue.put_nowait(item)

        handle = loop.call_later(delay, again)
        self._retries.add(handle)

    def _done(self) -> None:
        self._outstanding -= 1
        if self._outstanding <= 0 and self._idle is not None:
            self._outstanding = 0
            self._idle.set()


# --- Reading the outbox (`cloudstore outbox`) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    path: Path
    message: EmailMessage


def outbox_entries(directory: Path, last: int | None = None) -> list[OutboxEntry]:
    """The outbox's messages, oldest first (the `last` newest, if given)."""
    if not directory.is_dir():
        return []
    paths = sorted(p for p in directory.glob("*.eml") if p.is_file())
    if last is not None:
        paths = paths[-last:] if last > 0 else []
    return [OutboxEntry(path, read_message(path.read_bytes())) for path in paths]


def read_message(data: bytes) -> EmailMessage:
    """A message as written by `wire_bytes` (headers may be raw UTF-8: RFC 6532)."""
    text = data.decode("utf-8", "surrogateescape")
    message = email.message_from_string(text, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def links_in(message: EmailMessage) -> list[str]:
    """The http(s) links of the plain-text part, in order, each once."""
    import re

    seen: dict[str, None] = {}
    for link in re.findall(r"https?://[^\s<>\"']+", text_body(message)):
        seen.setdefault(link.rstrip(".,)"), None)
    return list(seen)
