"""A real stand-in fault between the app and its DynamoDB server: a small TCP proxy that
forwards everything, except that it can lose the answer of one chosen request.

Modes (each arms one request of one operation, matched by its `X-Amz-Target` header):
- `late_answer`: the request reaches the server; its answer is held back for `seconds`,
  then the connection is dropped (the client has given up by then).
- `drop_answer`: the request reaches the server; the connection drops as its answer comes.
- `late_request`: the request is held for `seconds` before it reaches the server; its
  answer is thrown away.
`delivered` is set once an armed request has reached the server and been answered.
`hanging = True` holds every request from then on (none reaches the server, none is
answered) until it is set back to False: a DynamoDB that hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TARGET = b"x-amz-target: dynamodb_20120810."


@dataclass
class _Fault:
    operations: tuple[str, ...]
    mode: str
    seconds: float


@dataclass
class _Connection:
    fault: _Fault | None = None
    held: bytearray = field(default_factory=bytearray)


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.host, self.port = parts.hostname, parts.port
        self.armed: list[_Fault] = []
        self.hanging = False
        self.delivered = asyncio.Event()
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task

    def arm(self, operations: str | tuple[str, ...], mode: str, seconds: float = 0.0) -> None:
        """Lose the answer of the next request of `operations` (e.g. "TransactWriteItems")."""
        self.delivered.clear()
        names = (operations,) if isinstance(operations, str) else operations
        self.armed.append(_Fault(names, mode, seconds))

    def _match(self, chunk: bytes) -> _Fault | None:
        lowered = chunk.lower()
        for fault in self.armed:
            if any(TARGET + op.lower().encode() + b"\r\n" in lowered for op in fault.operations):
                self.armed.remove(fault)
                return fault
        return None

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, client_reader, client_writer) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        connection = _Connection()
        self._spawn(self._answers(connection, upstream_reader, client_writer, upstream_writer))
        try:
            while data := await client_reader.read(65536):
                if self.hanging:
                    continue  # held: never forwarded (the client gives up on it)
                if connection.fault is None:
                    connection.fault = self._match(data)
                    if connection.fault and connection.fault.mode == "late_request":
                        self._spawn(self._deliver_late(connection, upstream_writer))
                if connection.fault and connection.fault.mode == "late_request":
                    connection.held.extend(data)
                    continue
                upstream_writer.write(data)
                await upstream_writer.drain()
        except (ConnectionError, OSError):
            pass
        if connection.fault is None:
            upstream_writer.close()

    async def _deliver_late(self, connection: _Connection, upstream_writer) -> None:
        await asyncio.sleep(connection.fault.seconds)
        upstream_writer.write(bytes(connection.held))
        await upstream_writer.drain()

    async def _answers(self, connection, upstream_reader, client_writer, upstream_writer) -> None:
        try:
            while data := await upstream_reader.read(65536):
                fault = connection.fault
                if fault is None:
                    client_writer.write(data)
                    await client_writer.drain()
                    continue
                self.delivered.set()
                if fault.mode == "late_answer":
                    await asyncio.sleep(fault.seconds)
                break
        except (ConnectionError, OSError):
            pass
        finally:
            client_writer.close()
            upstream_writer.close()


class CutProxy:
    """A plain TCP proxy to a server (`host`, `port`, or a Unix socket path as `host`) that
    can be cut: `cut()` drops every connection and refuses new ones, as a server that went
    down does; `restore()` listens again on the same port. The server itself is never
    touched, so a shared one (the machine's PostgreSQL) can stand behind it."""

    def __init__(self, host: str, port: int | None) -> None:
        self.host, self.upstream_port = host, port
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> CutProxy:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def _open_upstream(self):
        if self.host.startswith("/"):
            path = f"{self.host}/.s.PGSQL.{self.upstream_port or 5432}"
            return await asyncio.open_unix_connection(path)
        return await asyncio.open_connection(self.host, self.upstream_port)

    async def _handle(self, client_reader, client_writer) -> None:
        try:
            upstream_reader, upstream_writer = await self._open_upstream()
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update((client_writer, upstream_writer))

        async def pipe(reader, writer) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()
                self._writers.discard(writer)

        await asyncio.gather(
            pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer)
        )
