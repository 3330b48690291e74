"""The product-image settings: MAX_UPLOAD_BYTES, MEDIA_BACKEND, S3_BUCKET, S3_ENDPOINT and
MEDIA_BASE_URL, read from the environment and checked with a message naming the variable."""

from __future__ import annotations

import pytest

from cloudstore.settings import Settings, SettingsError


def from_env(environ: dict[str, str]) -> Settings:
    return Settings.from_env(environ, env_file=None)


def test_images_default_to_the_data_dir_and_5_mb():
    settings = from_env({})
    assert settings.media_backend == "local"
    assert settings.max_upload_bytes == 5 * 1024 * 1024
    assert settings.s3_bucket is None and settings.media_base_url is None
    settings.validate()


def test_the_image_settings_are_read_from_the_environment():
    settings = from_env(
        {
            "MAX_UPLOAD_BYTES": "2097152",
            "MEDIA_BACKEND": "S3",
            "S3_BUCKET": "shop-media",
            "S3_ENDPOINT": "http://127.0.0.1:9000",
            "MEDIA_BASE_URL": "https://cdn.example.com/",
        }
    )
    assert settings.max_upload_bytes == 2 * 1024 * 1024
    assert settings.media_backend == "s3"
    assert settings.s3_bucket == "shop-media"
    assert settings.s3_endpoint == "http://127.0.0.1:9000"
    assert settings.media_base_url == "https://cdn.example.com"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"MEDIA_BACKEND": "s3"}, "S3_BUCKET"),
        ({"MEDIA_BACKEND": "ftp"}, "MEDIA_BACKEND"),
        ({"MAX_UPLOAD_BYTES": "1000"}, "MAX_UPLOAD_BYTES"),
        ({"MAX_UPLOAD_BYTES": str(500 * 1024 * 1024)}, "MAX_UPLOAD_BYTES"),
        ({"MAX_UPLOAD_BYTES": "five"}, "MAX_UPLOAD_BYTES"),
        ({"MEDIA_BASE_URL": "cdn.example.com"}, "MEDIA_BASE_URL"),
        ({"MEDIA_BASE_URL": "https://cdn.example.com/x'; script-src *"}, "MEDIA_BASE_URL"),
        ({"MEDIA_BASE_URL": "javascript:alert(1)"}, "MEDIA_BASE_URL"),
    ],
)
def test_bad_image_settings_are_refused_naming_the_variable(environ, names):
    with pytest.raises(SettingsError, match=names):
        from_env(environ).validate()
