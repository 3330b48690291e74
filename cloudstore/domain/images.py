"""Product images: what an upload may be, the sizes the pages show, and the one pipeline that
turns an upload into those sizes (pure CPU work on bytes, no I/O: callers run it in a thread).

An upload is judged by its content only (never its file name or the client's content type):
its first bytes must be PNG, JPEG or WebP, Pillow must read it as that same format, its
dimensions (read from the header, before any pixel is decoded) must stay under
`MAX_PIXELS`, and it must decode completely. It is then turned upright (EXIF orientation),
cropped to the pages' 4:3 frame and encoded afresh as WebP at each size, 1x and 2x, with no
metadata at all (EXIF, XMP, ICC, comments are not copied).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from cloudstore.domain.errors import ErrorCode, InvalidInput, TooLarge, UnsupportedMediaType

# 40 megapixels: a large camera photo (8000 x 5000). Decoding one takes about 120 MB.
MAX_PIXELS = 40_000_000
# Pillow refuses anything over twice this at open() (DecompressionBombError); we refuse
# anything over it ourselves, before decoding.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
FORMATS = ("PNG", "JPEG", "WEBP")
ACCEPT = "image/png,image/jpeg,image/webp"  # the file input's hint; the content decides
CONTENT_TYPE = "image/webp"
WEBP_QUALITY = 82
ASPECT = (4, 3)


@dataclass(frozen=True, slots=True)
class Size:
    """One place a page shows a product image, in CSS pixels (all 4:3, as the CSS crops)."""

    name: str
    width: int
    height: int


# card: the catalog grid (.card-link img, 400x300); page: the product page (.product-image,
# up to about 640 wide); thumb: the cart (96x72) and the cart drawer (56x56, cropped by CSS).
SIZES = (Size("card", 400, 300), Size("page", 640, 480), Size("thumb", 96, 72))
SIZE_NAMES = tuple(size.name for size in SIZES)
DENSITIES = (1, 2)


@dataclass(frozen=True, slots=True)
class Rendition:
    """One encoded file: `size` at `density` (its pixels are width*density x height*density)."""

    size: str
    density: int
    width: int
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ImageVariant:
    """One size as stored: its CSS size and the storage keys of its 1x and 2x files."""

    width: int
    height: int
    key: str
    key_2x: str


@dataclass(frozen=True, slots=True)
class ProductImage:
    """An uploaded image: one variant per size. Kept on the product item as a map."""

    card: ImageVariant
    page: ImageVariant
    thumb: ImageVariant

    def variant(self, name: str) -> ImageVariant:
        variant: ImageVariant = getattr(self, name)
        return variant

    def names(self) -> tuple[str, ...]:
        """Every file's name (storage key)."""
        files = [self.variant(name) for name in SIZE_NAMES]
        return tuple(name for variant in files for name in (variant.key, variant.key_2x))

    def as_map(self) -> dict[str, dict[str, object]]:
        return {
            name: {
                "width": self.variant(name).width,
                "height": self.variant(name).height,
                "1x": self.variant(name).key,
                "2x": self.variant(name).key_2x,
            }
            for name in SIZE_NAMES
        }

    @classmethod
    def from_map(cls, value: object) -> ProductImage | None:
        """The image stored on an item; None for none (or a map this version cannot read)."""
        if not isinstance(value, dict):
            return None
        try:
            variants = {
                name: ImageVariant(
                    width=int(value[name]["width"]),
                    height=int(value[name]["height"]),
                    key=str(value[name]["1x"]),
                    key_2x=str(value[name]["2x"]),
                )
                for name in SIZE_NAMES
            }
        except (KeyError, TypeError, ValueError):
            return None
        return cls(**variants)


# --- refusals -------------------------------------------------------------------------------


def _wrong_type() -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "the image must be a PNG, JPEG or WebP file", code=ErrorCode.IMAGE_TYPE, field="image"
    )


def _corrupt() -> InvalidInput:
    return InvalidInput(
        "the image could not be read; it may be damaged or incomplete",
        code=ErrorCode.IMAGE_CORRUPT,
        field="image",
    )


def too_large(max_bytes: int) -> TooLarge:
    return TooLarge(
        f"the image is larger than {megabytes(max_bytes)}",
        code=ErrorCode.IMAGE_TOO_LARGE,
        field="image",
        limit_bytes=max_bytes,
    )


def _too_many_pixels(max_pixels: int) -> TooLarge:
    return TooLarge(
        f"the image has more than {max_pixels // 1_000_000} megapixels",
        code=ErrorCode.IMAGE_TOO_MANY_PIXELS,
        field="image",
    )


def megabytes(count: int) -> str:
    """`5 MB`, `1.5 MB`, `200 KB`: a byte limit in words."""
    if count >= 1024 * 1024:
        value = count / (1024 * 1024)
        return f"{value:.1f}".rstrip("0").rstrip(".") + " MB"
    return f"{max(1, count // 1024)} KB"


# --- the pipeline -----------------------------------------------------------------------------


def sniffed_format(data: bytes) -> str | None:
    """PNG, JPEG or WEBP from the file's first bytes (its magic number), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def render_image(
    data: bytes, *, max_bytes: int, max_pixels: int = MAX_PIXELS
) -> tuple[Rendition, ...]:
    """Every size at every density as WebP, from an upload's bytes; refuses (413, 415, 400)
    what is too large, not an image of ours, too many pixels or unreadable. CPU-bound: call
    it in a thread (`asyncio.to_thread`)."""
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    kind = sniffed_format(data)
    if kind is None:
        raise _wrong_type()
    frame = _decode(data, kind, max_pixels)
    # Crop to 4:3 and shrink once to the largest file's size; every file is made from that.
    largest = max(SIZES, key=lambda size: size.width)
    biggest = (largest.width * DENSITIES[-1], largest.height * DENSITIES[-1])
    base = ImageOps.fit(frame, biggest, method=Image.Resampling.LANCZOS)
    return tuple(_encode(base, size, density) for size in SIZES for density in DENSITIES)


def _decode(data: bytes, kind: str, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as opened:
                width, height = opened.size
                if width < 1 or height < 1:
                    raise _corrupt()
                if width * height > max_pixels:
                    raise _too_many_pixels(max_pixels)
                opened.seek(0)  # an animation's first frame
                if kind == "JPEG":  # decode at a reduced scale when the photo is large
                    largest = max(SIZES, key=lambda size: size.width)
                    opened.draft("RGB", (largest.width * 2, largest.height * 2))
                opened.load()
                upright = ImageOps.exif_transpose(opened)
                return _plain_pixels(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except UnidentifiedImageError:
        raise _corrupt() from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
        raise _corrupt() from None


def _plain_pixels(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency; no metadata kept."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda value: value / 256).convert("L")
    plain = image.convert("RGBA" if has_alpha else "RGB")
    plain.info = {}
    return plain


def _encode(frame: Image.Image, size: Size, density: int) -> Rendition:
    width, height = size.width * density, size.height * density
    if frame.size == (width, height):
        fitted = frame.copy()
    else:
        fitted = frame.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    fitted.info = {}
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": WEBP_QUALITY, "method": 4, "exif": b"", "xmp": b""}
    fitted.save(out, format="WEBP", **options)
    return Rendition(size.name, density, size.width, size.height, out.getvalue())
