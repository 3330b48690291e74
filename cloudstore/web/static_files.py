"""Content-hashed static URLs, so browsers and proxies may keep static files for a year.

`url_for('static', filename='css/site.css')` becomes `/static/css/site.css?v=<12 hex>`, the
first 12 hex digits of the file's SHA-256. A deploy that changes the file changes its URL, so
a page never meets a stale stylesheet. The digest is computed once per process per file
version (keyed by path, mtime and size).

Answers from the app's static route (nginx serves /static/ itself in production, with the same
rule, see deploy/nginx.conf):
- `?v=` equal to the current digest: `Cache-Control: public, max-age=31536000, immutable`;
- anything else (no `v`, or an old one): `Cache-Control: public, max-age=STATIC_MAX_AGE`;
- always a strong ETag made from the content (the same on every instance), and 304 for a
  matching `If-None-Match`.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

from quart import Quart, abort, request, url_for
from werkzeug.security import safe_join

# Only what a browser loads is served: licences kept beside vendored files are not.
SERVED_SUFFIXES = frozenset(
    {".css", ".js", ".svg", ".woff2", ".woff", ".png", ".jpg", ".jpeg", ".webp", ".gif", ".ico"}
)
VERSION_ARG = "v"
VERSION_LENGTH = 12
ONE_YEAR = 31_536_000
IMMUTABLE = f"public, max-age={ONE_YEAR}, immutable"
RECHECK_SECONDS = 1.0


class StaticVersions:
    """SHA-256 digests of the files under one folder, cached by (path, mtime, size)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = str(Path(folder).resolve())
        self._cache: dict[str, tuple[int, int, str]] = {}
        self._urls: dict[str, tuple[str, int, str, float]] = {}
        self._lock = threading.Lock()

    def digest(self, filename: str) -> str | None:
        """Hex SHA-256 of the file, or None when it is not a file under the folder."""
        joined = safe_join(self.folder, filename)
        if joined is None:
            return None
        path = Path(joined)
        try:
            stat = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(joined)
        if cached is not None and cached[:2] == key:
            return cached[2]
        hasher = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(65536), b""):
                hasher.update(chunk)
        digest = hasher.hexdigest()
        with self._lock:
            self._cache[joined] = (*key, digest)
        return digest

    def url(self, filename: str) -> str:
        """The versioned URL of a static file, memoised: templates call this for every icon.

        The file's mtime is checked at most once a second, which keeps the URL right when
        the file changes under a running server without a stat on every call."""
        cached = self._urls.get(filename)
        now = time.monotonic()
        if cached is not None:
            path, mtime, url, checked = cached
            if now - checked < RECHECK_SECONDS:
                return url
            try:
                if os.stat(path).st_mtime_ns == mtime:
                    self._urls[filename] = (path, mtime, url, now)
                    return url
            except OSError:
                pass
        url = url_for("static", filename=filename)
        joined = safe_join(self.folder, filename)
        if joined is not None and os.path.isfile(joined):
            with self._lock:
                self._urls[filename] = (joined, os.stat(joined).st_mtime_ns, url, now)
        return url

    def version(self, filename: str) -> str | None:
        digest = self.digest(filename)
        return digest[:VERSION_LENGTH] if digest else None


def is_served(filename: str) -> bool:
    """Whether a file under static/ is one a browser loads (by its suffix)."""
    return Path(filename).suffix.lower() in SERVED_SUFFIXES


def init_static_files(app: Quart, short_max_age: int = 300) -> StaticVersions:
    """Add `v=<hash>` to static URLs and long-lived caching to versioned static answers."""
    assert app.static_folder is not None, "the app factory sets the static folder"
    versions = StaticVersions(app.static_folder)
    app.extensions["static_versions"] = versions
    app.jinja_env.globals["static_url"] = versions.url

    @app.url_defaults
    def add_static_version(endpoint: str, values: dict) -> None:
        if endpoint != "static" or VERSION_ARG in values:
            return
        filename = values.get("filename")
        if filename:
            version = versions.version(filename)
            if version:
                values[VERSION_ARG] = version

    @app.before_request
    async def only_browser_files():
        if request.endpoint == "static" and not is_served(
            (request.view_args or {}).get("filename", "")
        ):
            abort(404)

    @app.after_request
    async def cache_static(response):
        if request.endpoint != "static" or response.status_code != 200:
            return response
        digest = versions.digest((request.view_args or {}).get("filename", ""))
        if digest is None:
            return response
        response.set_etag(digest[:32])
        response.expires = None
        if request.args.get(VERSION_ARG) == digest[:VERSION_LENGTH]:
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = f"public, max-age={short_max_age}"
        await response.make_conditional(request)
        return response

    return versions
