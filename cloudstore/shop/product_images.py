"""Product images: an upload made into files (`domain.images`, in a thread) and kept in the
media store; the files of a replaced or deleted image removed once the product's write
succeeded; files read back for `/media/<name>`.

Names are `<first 40 hex of SHA-256(product id, NUL, the file)>.webp`: content-hashed, so a
name always means the same bytes (browsers keep them a year), and the product id in the hash
keeps two products that upload the same picture from sharing (and deleting) one file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from cloudstore.backends import Backends
from cloudstore.domain.images import ImageVariant, ProductImage, Rendition, render_image
from cloudstore.stores.media import valid_name

log = logging.getLogger(__name__)

MEDIA_PREFIX = "/media/"
# Decoding a large photo takes a second of CPU and a few hundred MB: at most this many at
# once per process (uploads are rare: admins only).
DECODE_CONCURRENCY = 2
_decoding: asyncio.Semaphore | None = None


def media_name(product_id: str, data: bytes) -> str:
    digest = hashlib.sha256(product_id.encode() + b"\0" + data).hexdigest()
    return f"{digest[:40]}.webp"


def media_path(name: str) -> str:
    """The app's own URL of a file (what `image_url` holds for API consumers)."""
    return MEDIA_PREFIX + name


def page_url(image: ProductImage) -> str:
    """The product-page size (1x): the `image_url` an uploaded image gives its product."""
    return media_path(image.page.key)


def _semaphore() -> asyncio.Semaphore:
    global _decoding
    if _decoding is None:
        _decoding = asyncio.Semaphore(DECODE_CONCURRENCY)
    return _decoding


async def render(backends: Backends, data: bytes) -> tuple[Rendition, ...]:
    """The upload checked and encoded at every size (refusals are DomainErrors, field
    "image"); CPU work, run in a thread."""
    async with _semaphore():
        return await asyncio.to_thread(
            render_image, data, max_bytes=backends.settings.max_upload_bytes
        )


async def store(backends: Backends, product_id: str, data: bytes) -> ProductImage:
    """Check, encode and keep an upload's files; the image to put on the product."""
    renditions = await render(backends, data)
    names = {(r.size, r.density): media_name(product_id, r.data) for r in renditions}
    written: list[str] = []
    try:
        for rendition in renditions:
            name = names[(rendition.size, rendition.density)]
            await backends.media.put(name, rendition.data)
            written.append(name)
    except BaseException:
        await discard_names(backends, written)
        raise
    variants = {}
    for rendition in renditions:
        if rendition.density == 1:
            variants[rendition.size] = ImageVariant(
                width=rendition.width,
                height=rendition.height,
                key=names[(rendition.size, 1)],
                key_2x=names[(rendition.size, 2)],
            )
    return ProductImage(**variants)


async def discard(
    backends: Backends, image: ProductImage | None, keep: ProductImage | None = None
) -> None:
    """Remove an image's files (those `keep` does not also use). Best effort: the product
    write already succeeded, so a failure here is logged (an orphan file), never raised."""
    if image is None:
        return
    kept = set(keep.names()) if keep is not None else set()
    await discard_names(backends, [name for name in image.names() if name not in kept])


async def discard_names(backends: Backends, names: list[str]) -> None:
    if not names:
        return
    try:
        await backends.media.delete(names)
    except Exception:  # noqa: BLE001 - cleanup must not undo a write that succeeded
        log.warning("could not delete media files %s", names, exc_info=True)


async def read(backends: Backends, name: str) -> bytes | None:
    """A file's bytes for `/media/<name>`, or None (not a media name, or no such file)."""
    if not valid_name(name):
        return None
    return await backends.media.get(name)
