"""A CSV file as an HTTP answer, streamed as its pieces are made (the admin page's export and
the admin API's): UTF-8, a download, never cached."""

from __future__ import annotations

from collections.abc import AsyncIterator

from quart import Response


def csv_response(chunks: AsyncIterator[str], filename: str) -> Response:
    async def body() -> AsyncIterator[bytes]:
        async for chunk in chunks:
            yield chunk.encode("utf-8")

    response = Response(body(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
