"""The media stores (stores/media.py): the data dir and an S3 bucket (moto's S3 server as
the stand-in) keep, return and delete files by name; a name that is not a content-hashed
media name never reaches a path or a key."""

from __future__ import annotations

import aioboto3
import pytest

from cloudstore.stores.media import LocalMedia, S3Media, media_store
from tests.helpers import make_settings
from tests.helpers.images import bucket_names, new_bucket, s3_endpoint  # noqa: F401 - fixture

NAME = "0123456789abcdef0123456789abcdef01234567.webp"
OTHER = "fedcba9876543210fedcba9876543210fedcba98.webp"


@pytest.fixture
async def local(tmp_path):
    store = LocalMedia(tmp_path / "media")
    await store.open(None)
    return store


@pytest.fixture
async def s3(s3_endpoint, tmp_path):  # noqa: F811 - the fixture imported above
    bucket = new_bucket(s3_endpoint)
    settings = make_settings(
        "postgresql://unused",
        "http://unused",
        tmp_path,
        media_backend="s3",
        s3_bucket=bucket,
        s3_endpoint=s3_endpoint,
    )
    store = media_store(settings)
    assert isinstance(store, S3Media)
    session = aioboto3.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="ap-southeast-1"
    )
    await store.open(session)
    yield store, s3_endpoint, bucket
    await store.close()


async def test_local_media_keeps_returns_and_deletes_a_file(local, tmp_path):
    await local.put(NAME, b"webp bytes")
    assert (tmp_path / "media" / NAME).read_bytes() == b"webp bytes"
    assert await local.get(NAME) == b"webp bytes"
    await local.delete([NAME, OTHER])  # a name never written is no error
    assert await local.get(NAME) is None
    assert not list((tmp_path / "media").iterdir())


def test_the_default_media_store_is_the_data_dirs(tmp_path):
    store = media_store(make_settings("postgresql://unused", "http://unused", tmp_path))
    assert isinstance(store, LocalMedia) and store.root == tmp_path / "media"


@pytest.mark.parametrize(
    "name",
    ["../secret.webp", "..%2Fsecret.webp", "/etc/passwd", NAME.upper(), NAME + "/x", "a.webp", ""],
)
async def test_local_media_refuses_names_that_are_not_media_names(local, name):
    for attempt in (local.get(name), local.put(name, b"x"), local.delete([name])):
        with pytest.raises(ValueError):
            await attempt


async def test_s3_media_keeps_returns_and_deletes_an_object(s3):
    store, endpoint, bucket = s3
    await store.put(NAME, b"webp bytes")
    await store.put(OTHER, b"other")
    assert bucket_names(endpoint, bucket) == {NAME, OTHER}
    assert await store.get(NAME) == b"webp bytes"
    await store.delete([NAME])
    assert bucket_names(endpoint, bucket) == {OTHER}
    assert await store.get(NAME) is None


async def test_s3_media_stores_objects_as_webp_cached_for_a_year(s3):
    import boto3

    store, endpoint, bucket = s3
    await store.put(NAME, b"webp bytes")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name="us-east-1",
    )
    head = client.head_object(Bucket=bucket, Key=NAME)
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"


async def test_s3_media_refuses_names_that_are_not_media_names(s3):
    store, _, _ = s3
    with pytest.raises(ValueError):
        await store.put("../x.webp", b"x")
