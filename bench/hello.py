"""The ceiling: a hello-world Quart endpoint, served by bench/run.py with the store's
hypercorn settings (workers, worker class, keep-alive)."""

from __future__ import annotations

from quart import Quart

app = Quart(__name__)


@app.get("/")
async def hello() -> tuple[str, int, dict[str, str]]:
    return "Hello, world!", 200, {"Content-Type": "text/plain"}
