"""Where product image files live: one small interface, two homes chosen by MEDIA_BACKEND.

- `LocalMedia`: files in `<data dir>/media/` (zero-config, one instance); the app serves them
  under `/media/<name>`.
- `S3Media`: objects in S3_BUCKET, through a client of the process's one aioboto3 session
  (`Dynamo.session`); required when several instances serve one shop.

Names are content-hashed (`<40 hex>.webp`, see `shop.product_images`): a name is written once
and never changes meaning, so browsers may keep it for a year. A name that does not look like
one is refused before it comes near a path or a key.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Protocol

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cloudstore.domain.errors import BackendUnavailable
from cloudstore.settings import Settings

log = logging.getLogger(__name__)

MEDIA_NAME = re.compile(r"^[0-9a-f]{40}\.webp$")
CONTENT_TYPE = "image/webp"


def valid_name(name: str) -> bool:
    return bool(MEDIA_NAME.fullmatch(name))


def _checked(name: str) -> str:
    if not valid_name(name):
        raise ValueError(f"not a media name: {name!r}")
    return name


class MediaStore(Protocol):
    async def open(self, session: Any) -> None: ...

    async def close(self) -> None: ...

    async def put(self, name: str, data: bytes) -> None: ...

    async def get(self, name: str) -> bytes | None: ...

    async def delete(self, names: list[str]) -> None: ...


class LocalMedia:
    """Files in one directory, written atomically (a temporary file renamed into place)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def open(self, session: Any) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def close(self) -> None:
        return None

    def path(self, name: str) -> Path:
        return self.root / _checked(name)

    async def put(self, name: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self.path(name), data)

    def _write(self, target: Path, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, name: str) -> bytes | None:
        try:
            return await asyncio.to_thread(self.path(name).read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, names: list[str]) -> None:
        def remove() -> None:
            for name in names:
                self.path(name).unlink(missing_ok=True)

        await asyncio.to_thread(remove)


class S3Media:
    """Objects in one bucket (at its root, named as above)."""

    def __init__(self, settings: Settings) -> None:
        assert settings.s3_bucket, "settings.validate() requires S3_BUCKET for s3"
        self.bucket = settings.s3_bucket
        self.endpoint = settings.s3_endpoint
        self.timeout = settings.backend_timeout
        self.client: Any = None
        self._stack: AsyncExitStack | None = None

    async def open(self, session: Any) -> None:
        config = Config(
            connect_timeout=min(2.0, self.timeout),
            read_timeout=30,
            retries={"total_max_attempts": 3, "mode": "standard"},
            max_pool_connections=16,
            s3={"addressing_style": "path"} if self.endpoint else None,
        )
        self._stack = AsyncExitStack()
        self.client = await self._stack.enter_async_context(
            session.client("s3", endpoint_url=self.endpoint, config=config)
        )

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None
            self.client = None

    async def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        if self.client is None:
            raise BackendUnavailable("S3")
        try:
            result: dict[str, Any] = await asyncio.wait_for(
                getattr(self.client, operation)(Bucket=self.bucket, **kwargs), timeout=60
            )
            return result
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise
            log.warning("s3 %s refused: %s", operation, error.response.get("Error", {}))
            raise BackendUnavailable("S3") from error
        except (BotoCoreError, OSError, TimeoutError) as error:
            log.warning("s3 %s failed: %s", operation, type(error).__name__)
            raise BackendUnavailable("S3") from error

    async def put(self, name: str, data: bytes) -> None:
        await self._call(
            "put_object",
            Key=_checked(name),
            Body=data,
            ContentType=CONTENT_TYPE,
            CacheControl="public, max-age=31536000, immutable",
        )

    async def get(self, name: str) -> bytes | None:
        try:
            reply = await self._call("get_object", Key=_checked(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        async with reply["Body"] as body:
            data: bytes = await body.read()
            return data

    async def delete(self, names: list[str]) -> None:
        keys = [{"Key": _checked(name)} for name in names]
        for start in range(0, len(keys), 1000):
            await self._call(
                "delete_objects", Delete={"Objects": keys[start : start + 1000], "Quiet": True}
            )


def media_store(settings: Settings) -> MediaStore:
    if settings.media_backend == "s3":
        return S3Media(settings)
    if settings.uses_real_backends:
        log.warning(
            "MEDIA_BACKEND=local keeps product images on this instance only; set "
            "MEDIA_BACKEND=s3 and S3_BUCKET when several instances serve the shop"
        )
    return LocalMedia(settings.data_dir / "media")
