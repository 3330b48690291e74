"""The image pipeline (domain/images.py): real PNG, JPEG and WebP files made with Pillow
become WebP files at every size the pages use, upright and with no metadata; what is not an
image of ours, too large, too many pixels or unreadable is refused with its own code."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cloudstore.domain.errors import ErrorCode
from cloudstore.domain.images import (
    DENSITIES,
    MAX_PIXELS,
    SIZES,
    ProductImage,
    megabytes,
    render_image,
    sniffed_format,
)
from tests.helpers.images import (
    EXIF_MAKE,
    decoded,
    picture,
    png_claiming,
    with_exif,
)

LIMIT = 5 * 1024 * 1024


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_become_webp_at_every_size_and_density(fmt):
    renditions = render_image(picture(fmt), max_bytes=LIMIT)
    expected = {
        (size.name, d, size.width * d, size.height * d) for size in SIZES for d in DENSITIES
    }
    found = set()
    for rendition in renditions:
        image = decoded(rendition.data)
        assert image.format == "WEBP"
        found.add((rendition.size, rendition.density, *image.size))
    assert found == expected


def test_the_pages_sizes_are_4_by_3_card_page_and_thumbnail():
    assert {size.name: (size.width, size.height) for size in SIZES} == {
        "card": (400, 300),
        "page": (640, 480),
        "thumb": (96, 72),
    }


def test_exif_is_removed():
    source = with_exif("JPEG")
    assert decoded(source).getexif()[EXIF_MAKE] == "SecretCam 3000"
    for rendition in render_image(source, max_bytes=LIMIT):
        image = decoded(rendition.data)
        assert not image.getexif()
        assert "exif" not in image.info and "xmp" not in image.info
        assert b"SecretCam" not in rendition.data


def test_the_exif_orientation_is_applied_before_it_is_removed():
    # Orientation 3 = rotated 180°: the red left half is shown on the right.
    source = with_exif("JPEG", orientation=3)
    card = next(r for r in render_image(source, max_bytes=LIMIT) if r.size == "card")
    image = decoded(card.data).convert("RGB")
    left, right = image.getpixel((20, 150)), image.getpixel((380, 150))
    assert left[2] > 150 and left[0] < 100  # blue
    assert right[0] > 150 and right[2] < 100  # red


def test_a_transparent_png_keeps_its_transparency():
    canvas = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    canvas.paste(Image.new("RGBA", (400, 600), (200, 30, 30, 255)), (400, 0))
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    card = next(r for r in render_image(out.getvalue(), max_bytes=LIMIT) if r.size == "card")
    image = decoded(card.data)
    assert image.mode == "RGBA"
    assert image.getpixel((20, 150))[3] == 0 and image.getpixel((380, 150))[3] == 255


def test_a_renamed_text_file_is_refused_as_the_wrong_type():
    with pytest.raises(Exception) as refused:
        render_image(b"just some notes, saved as photo.png\n" * 20, max_bytes=LIMIT)
    assert refused.value.code == ErrorCode.IMAGE_TYPE
    assert refused.value.status == 415


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused_as_the_wrong_type(fmt):
    with pytest.raises(Exception) as refused:
        render_image(picture(fmt), max_bytes=LIMIT)
    assert refused.value.code == ErrorCode.IMAGE_TYPE


def test_the_content_decides_not_the_first_bytes_alone():
    # A PNG signature followed by junk is not a PNG.
    with pytest.raises(Exception) as refused:
        render_image(b"\x89PNG\r\n\x1a\n" + b"\x00junk" * 100, max_bytes=LIMIT)
    assert refused.value.code == ErrorCode.IMAGE_CORRUPT
    assert refused.value.status == 400


def test_a_truncated_image_is_refused_as_corrupt():
    whole = picture("JPEG", size=(1200, 900), quality=95)
    with pytest.raises(Exception) as refused:
        render_image(whole[: len(whole) // 2], max_bytes=LIMIT)
    assert refused.value.code == ErrorCode.IMAGE_CORRUPT


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read():
    data = picture("PNG")
    with pytest.raises(Exception) as refused:
        render_image(data, max_bytes=len(data) - 1)
    assert refused.value.code == ErrorCode.IMAGE_TOO_LARGE
    assert refused.value.status == 413


@pytest.mark.parametrize(("width", "height"), [(7000, 7000), (60000, 60000)])
def test_a_decompression_bomb_is_refused_from_its_header(width, height):
    # 49 megapixels (over our limit) and 3.6 gigapixels (over Pillow's own bomb limit):
    # both refused from the header, before a pixel is decoded.
    assert width * height > MAX_PIXELS
    with pytest.raises(Exception) as refused:
        render_image(png_claiming(width, height), max_bytes=LIMIT)
    assert refused.value.code == ErrorCode.IMAGE_TOO_MANY_PIXELS
    assert refused.value.status == 413


def test_the_pixel_limit_is_checked_on_real_images_too():
    with pytest.raises(Exception) as refused:
        render_image(picture("PNG", size=(200, 150)), max_bytes=LIMIT, max_pixels=200 * 149)
    assert refused.value.code == ErrorCode.IMAGE_TOO_MANY_PIXELS


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n....", "PNG"),
        (b"\xff\xd8\xff\xe0....", "JPEG"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WEBP"),
        (b"GIF89a....", None),
        (b"<svg xmlns=", None),
        (b"", None),
    ],
)
def test_the_format_is_sniffed_from_the_content(data, kind):
    assert sniffed_format(data) == kind


def test_a_product_image_round_trips_through_its_stored_map():
    names = iter(f"{n:040x}.webp" for n in range(6))
    from cloudstore.domain.images import ImageVariant

    image = ProductImage(
        **{s.name: ImageVariant(s.width, s.height, next(names), next(names)) for s in SIZES}
    )
    assert ProductImage.from_map(image.as_map()) == image
    assert len(set(image.names())) == 6
    assert ProductImage.from_map(None) is None
    assert ProductImage.from_map({"card": {}}) is None


@pytest.mark.parametrize(
    ("count", "words"), [(5 * 1024 * 1024, "5 MB"), (1536 * 1024, "1.5 MB"), (200 * 1024, "200 KB")]
)
def test_limits_are_said_in_megabytes(count, words):
    assert megabytes(count) == words
