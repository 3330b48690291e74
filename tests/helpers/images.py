"""Real images made with Pillow for the image tests, and an S3 stand-in (moto's server, which
answers as S3's documentation says) for the S3 media store."""

from __future__ import annotations

import io
import struct
import uuid
import zlib

import boto3
import pytest
from PIL import Image

EXIF_MAKE = 0x010F
EXIF_ORIENTATION = 0x0112


def picture(fmt: str = "PNG", size=(800, 600), color=(200, 30, 30), **save) -> bytes:
    """An image file of `size`: the left half `color`, the right half blue."""
    mode = "RGBA" if save.pop("alpha", False) else "RGB"
    image = Image.new(mode, size, (*color, 255)[: len(mode)])
    right = Image.new(mode, (size[0] // 2, size[1]), (20, 40, 220, 255)[: len(mode)])
    image.paste(right, (size[0] - size[0] // 2, 0))
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def with_exif(fmt: str = "JPEG", orientation: int = 1, **kwargs) -> bytes:
    exif = Image.Exif()
    exif[EXIF_MAKE] = "SecretCam 3000"
    exif[EXIF_ORIENTATION] = orientation
    return picture(fmt, exif=exif.tobytes(), **kwargs)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` (a decompression bomb's shape):
    a real 1x1 PNG with its IHDR rewritten and its CRC made right again."""
    data = bytearray(picture("PNG", size=(1, 1)))
    start = 8  # after the signature: length(4) type(4) data(13) crc(4)
    ihdr = bytearray(data[start + 8 : start + 21])
    ihdr[0:8] = struct.pack(">II", width, height)
    data[start + 8 : start + 21] = ihdr
    crc = zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF
    data[start + 21 : start + 25] = struct.pack(">I", crc)
    return bytes(data)


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's server on a free port (127.0.0.1 only): it speaks S3 (moto[s3])."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def new_bucket(endpoint: str) -> str:
    name = f"media-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=name)
    return name


def bucket_names(endpoint: str, bucket: str) -> set[str]:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name="us-east-1",
    )
    found = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {entry["Key"] for entry in found}
