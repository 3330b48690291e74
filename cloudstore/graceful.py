"""A worker's shutdown never resets a kept-alive connection (hypercorn 0.17/0.18, asyncio and
uvloop workers; `cloudstore.asgi` installs this in every worker).

What hypercorn does on shutdown: it stops accepting, lets requests in flight finish (up to
`graceful_timeout`), and closes every idle kept-alive connection at once. A client that sent
its next request on such a connection just as it closed gets a *reset* (the kernel answers
data sent to a closed socket with RST), so it cannot tell whether the request was done; a
response finished during shutdown does not say `Connection: close` either, so a client may
send another request on it, with the same result.

What this changes, during shutdown only:
- responses carry `Connection: close`, so clients send nothing more on that connection;
- a connection is closed *lingering*, as nginx and Apache do: our side's end of stream
  (FIN) goes first, then whatever the client still sends is read and dropped (never handed
  to the app) until it closes its side or `LINGER_SECONDS` pass, and only then is the socket
  closed. A request that raced the close thus meets a clean end of stream before any byte
  of an answer: the client knows nothing was done and may retry it.
A request that has arrived before the close is answered (hypercorn already marks such a
connection busy, so the idle close does not touch it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from ssl import SSLError
from typing import Any

log = logging.getLogger(__name__)

LINGER_SECONDS = 2.0
_READ_ERRORS = (ConnectionError, OSError, asyncio.TimeoutError, TimeoutError, SSLError)


def install() -> bool:
    """Patch hypercorn's asyncio TCP server and HTTP/1 protocol; False (and a warning) when
    this hypercorn is not one whose internals are known here."""
    try:
        from hypercorn.asyncio import tcp_server
        from hypercorn.events import Closed, RawData
        from hypercorn.protocol.events import Response
        from hypercorn.protocol.h11 import H11Protocol
    except ImportError:  # pragma: no cover - another hypercorn
        log.warning("graceful shutdown: hypercorn internals not found; connections may reset")
        return False
    server_class: Any = tcp_server.TCPServer
    if getattr(server_class, "_cloudstore_graceful", False):
        return True
    if not all(
        hasattr(server_class, name)
        for name in ("_read_data", "_initiate_server_close", "protocol_send")
    ):  # pragma: no cover - another hypercorn
        log.warning("graceful shutdown: unknown hypercorn TCPServer; connections may reset")
        return False
    original_send = server_class.protocol_send
    original_initiate = server_class._initiate_server_close
    original_stream_send = H11Protocol.stream_send

    def shutting_down(self: Any) -> bool:
        return bool(self.context.terminated.is_set())

    def linger(self: Any) -> None:
        """Send our end of stream now; `_read_data` drops what comes in, then ends."""
        if getattr(self, "_linger_until", None) is None:
            self._linger_until = asyncio.get_running_loop().time() + LINGER_SECONDS
        try:
            self.writer.write_eof()
        except (NotImplementedError, OSError, RuntimeError):  # TLS has no half-close
            self.writer.close()

    async def _read_data(self: Any) -> None:
        loop = asyncio.get_running_loop()
        while not self.reader.at_eof():
            until = getattr(self, "_linger_until", None)
            timeout = self.config.read_timeout if until is None else max(until - loop.time(), 0)
            try:
                data = await asyncio.wait_for(self.reader.read(tcp_server.MAX_RECV), timeout)
            except _READ_ERRORS:
                break
            if getattr(self, "_linger_until", None) is None:
                await self.protocol.handle(RawData(data))
            # else: after our end of stream: read (so closing never resets) and dropped
        await self.protocol.handle(Closed())

    async def _initiate_server_close(self: Any) -> None:
        if not shutting_down(self):
            await original_initiate(self)  # the keep-alive timeout: as before
            return
        await self.protocol.handle(Closed())
        linger(self)

    async def protocol_send(self: Any, event: Any) -> None:
        if isinstance(event, Closed) and shutting_down(self) and not self.reader.at_eof():
            linger(self)  # `run` closes the socket once `_read_data` ends
            return
        await original_send(self, event)

    async def stream_send(self: Any, event: Any) -> None:
        if isinstance(event, Response) and event.status_code >= 200 and shutting_down(self):
            headers = [*event.headers, (b"connection", b"close")]
            event = dataclasses.replace(event, headers=headers)
        await original_stream_send(self, event)

    server_class._read_data = _read_data
    server_class._initiate_server_close = _initiate_server_close
    server_class.protocol_send = protocol_send
    server_class._cloudstore_graceful = True
    H11Protocol.stream_send = stream_send  # type: ignore[method-assign]
    return True
