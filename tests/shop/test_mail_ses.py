"""MAIL_BACKEND=ses: Amazon SES v2 SendEmail with the raw message, against moto's SES v2
(a moto server of its own, in this process, so its sent messages can be read back)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.ses.models import ses_backends

from cloudstore.shop import mail
from cloudstore.stores.mail import SesTransport, read_message, text_body
from tests.helpers import make_settings
from tests.shop.test_mail_messages import SETTINGS, user

REGION = "ap-southeast-1"


@pytest.fixture(scope="module")
def ses_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def settings(tmp_path):
    return make_settings(
        "postgresql://unused",
        "http://unused",
        tmp_path,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_region=REGION,
        mail_backend="ses",
        mail_from="Toko Cloud <toko@example.com>",
        public_url="https://shop.example.com",
    )


def verify_sender(endpoint: str, address: str) -> None:
    client = boto3.client(
        "sesv2",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_email_identity(EmailIdentity=address)


def sent() -> list:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


async def test_ses_sends_the_raw_message_from_mail_from(settings, ses_endpoint):
    verify_sender(ses_endpoint, "toko@example.com")
    before = len(sent())
    transport = SesTransport(settings, endpoint_url=ses_endpoint)
    await transport.open()
    try:
        await transport.send(mail.welcome_message(SETTINGS, user()))
    finally:
        await transport.close()
    (raw,) = sent()[before:]
    assert raw.source == "toko@example.com"
    assert any("budi@example.com" in d for d in raw.destinations)
    message = read_message(raw.raw_data.encode())
    assert str(message["Subject"]) == "Welcome to Cloud Store"
    assert "Hello Budi" in text_body(message) and message.get_body(("html",)) is not None


async def test_ses_refusing_an_unverified_sender_raises_for_the_queue_to_retry(
    settings, ses_endpoint
):
    other = make_settings(
        "postgresql://unused",
        "http://unused",
        settings.data_dir,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_region=REGION,
        mail_from="Stranger <nobody@unverified.example>",
    )
    transport = SesTransport(other, endpoint_url=ses_endpoint)
    await transport.open()
    try:
        with pytest.raises(ClientError, match="MessageRejected"):
            await transport.send(mail.welcome_message(other, user()))
    finally:
        await transport.close()


def test_mail_backend_ses_needs_public_url_and_mail_from(settings):
    from cloudstore.settings import SettingsError

    with pytest.raises(SettingsError, match="PUBLIC_URL"):
        settings.with_overrides(public_url=None)._check_mail()
    with pytest.raises(SettingsError, match="MAIL_FROM"):
        settings.with_overrides(mail_from="Cloud Store <noreply@localhost>")._check_mail()
    settings._check_mail()
