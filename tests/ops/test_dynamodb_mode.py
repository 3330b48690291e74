"""DYNAMODB_MODE: `auto` (today's rule), `aws` (the default AWS credential chain: instance or
task role, SSO, a shared profile; never a local DynamoDB) and `local`."""

from __future__ import annotations

import os
import subprocess
import sys

import aioboto3
import pytest

from cloudstore.settings import Settings, SettingsError
from cloudstore.stores.dynamo import Dynamo, session_arguments

PROFILE_KEY = "AKIAPROFILEEXAMPLE01"


def from_env(values: dict[str, str]) -> Settings:
    return Settings.from_env(values, env_file=None)


@pytest.fixture
def shared_profile(tmp_path, monkeypatch):
    """A shared credentials file with a named profile, as `aws configure` writes it, and no
    keys in the environment: only boto's default chain can find these."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[shop]\naws_access_key_id = {PROFILE_KEY}\naws_secret_access_key = profile-secret\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_PROFILE", "shop")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-role probe here
    return PROFILE_KEY


def test_auto_without_keys_or_endpoint_means_a_local_dynamodb():
    settings = from_env({})
    assert settings.dynamodb_mode == "auto"
    assert settings.embedded_dynamodb and not settings.dynamodb_on_aws


def test_auto_with_an_access_key_means_aws():
    settings = from_env({"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s"})
    assert settings.dynamodb_on_aws and not settings.embedded_dynamodb


def test_aws_mode_without_keys_never_starts_a_local_dynamodb():
    settings = from_env({"DYNAMODB_MODE": "aws"})
    assert settings.dynamodb_on_aws
    assert not settings.embedded_dynamodb
    assert settings.uses_real_backends


def test_aws_mode_without_keys_leaves_credentials_to_the_default_chain():
    arguments = session_arguments(from_env({"DYNAMODB_MODE": "aws", "AWS_REGION": "eu-west-1"}))
    assert arguments == {"region_name": "eu-west-1"}


async def test_aws_mode_finds_credentials_of_a_shared_profile(shared_profile):
    session = aioboto3.Session(**session_arguments(from_env({"DYNAMODB_MODE": "aws"})))
    credentials = await session.get_credentials()
    assert credentials is not None
    assert (await credentials.get_frozen_credentials()).access_key == shared_profile


async def test_aws_mode_client_works_with_chain_credentials_through_an_endpoint(
    shared_profile, dynamodb
):
    """DYNAMODB_ENDPOINT stays usable with aws mode (a VPC endpoint); here it is the test's
    DynamoDB, which accepts any key, and the key sent is the profile's."""
    settings = from_env({"DYNAMODB_MODE": "aws", "DYNAMODB_ENDPOINT": dynamodb.endpoint})
    dynamo = Dynamo(settings)
    await dynamo.open()
    try:
        sent: list[str] = []

        def record(request, **_):
            sent.append(request.headers["Authorization"].decode())

        dynamo.client.meta.events.register("before-send.dynamodb", record)
        await dynamo.call("list_tables", Limit=1)
        assert sent and f"Credential={shared_profile}/" in sent[0]
    finally:
        await dynamo.close()


def test_aws_mode_needs_the_shared_jwt_secret():
    with pytest.raises(SettingsError, match="JWT_SECRET_KEY"):
        from_env({"DYNAMODB_MODE": "aws"}).validate()


def test_local_mode_ignores_aws_keys_for_the_choice_of_backend():
    settings = from_env(
        {"DYNAMODB_MODE": "local", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s"}
    )
    assert settings.embedded_dynamodb and not settings.dynamodb_on_aws


def test_local_mode_without_keys_never_reads_the_operators_aws_credentials(shared_profile):
    arguments = session_arguments(from_env({"DYNAMODB_MODE": "local"}))
    assert arguments["aws_access_key_id"] == "local"


def test_an_unknown_mode_is_one_line():
    with pytest.raises(SettingsError, match="DYNAMODB_MODE"):
        from_env({"DYNAMODB_MODE": "cloud"}).validate()


def test_migrate_in_aws_mode_without_credentials_says_so_in_its_last_line(postgres_url, tmp_path):
    """An operator checking an instance role (`cloudstore migrate --check`) on a box without
    one is told why DynamoDB is unavailable, without a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        DYNAMODB_MODE="aws",
        JWT_SECRET_KEY="k",
        CLOUDSTORE_DATABASE_URL=postgres_url,
        CLOUDSTORE_DATA_DIR=str(tmp_path / "data"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
    )
    env.pop("DYNAMODB_ENDPOINT", None)
    result = subprocess.run(
        [sys.executable, "-m", "cloudstore", "migrate", "--check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("cloudstore migrate: DynamoDB is unavailable (NoCredentialsError")
