"""MAIL_BACKEND=smtp against a real local SMTP server (aiosmtpd), and the mail queue's
retries, give-ups and independence from the requests that queue mail."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from cloudstore import create_app
from cloudstore.shop import mail
from cloudstore.stores.mail import MailQueue, SmtpTransport, read_message, text_body
from tests.helpers import free_port, make_settings, place_order, register, unique_email
from tests.shop.test_mail_messages import SETTINGS, user


class Inbox:
    """An SMTP server's handler: keeps what it accepts; refuses (451) the first
    `refuse_first` messages and every message whose text holds `refuse_word`."""

    def __init__(self, refuse_first: int = 0, refuse_word: str | None = None) -> None:
        self.refuse_first = refuse_first
        self.refuse_word = refuse_word
        self.attempts = 0
        self.accepted: list[tuple[str, list[str], EmailMessage]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        self.attempts += 1
        content = envelope.content
        if self.attempts <= self.refuse_first or (
            self.refuse_word and self.refuse_word.encode() in content
        ):
            return "451 try again later"
        self.accepted.append((envelope.mail_from, envelope.rcpt_tos, read_message(content)))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


def smtp_server(inbox: Inbox, *, auth: bool = False):
    port = free_port()
    options = (
        {"authenticator": inbox.authenticate, "auth_require_tls": False, "auth_required": True}
        if auth
        else {}
    )
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port


@pytest.fixture
def inbox():
    inbox = Inbox()
    controller, inbox.port = smtp_server(inbox)
    yield inbox
    controller.stop()


def welcome(name: str = "Budi Santoso") -> EmailMessage:
    return mail.welcome_message(SETTINGS, user(name=name))


async def test_smtp_delivers_the_message_with_its_text_and_html(inbox):
    transport = SmtpTransport(f"smtp://127.0.0.1:{inbox.port}")
    await transport.send(welcome())
    ((sender, recipients, message),) = inbox.accepted
    assert (sender, recipients) == ("toko@example.com", ["budi@example.com"])
    assert "Welcome to Cloud Store" in str(message["Subject"])
    assert message.get_body(("html",)) is not None and "Hello Budi" in text_body(message)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_smtp_logs_in_with_the_urls_percent_decoded_credentials():
    inbox = Inbox()
    controller, port = smtp_server(inbox, auth=True)
    try:
        await SmtpTransport(f"smtp://toko%40x.id:p%40ss%3Aword@127.0.0.1:{port}").send(welcome())
    finally:
        controller.stop()
    assert inbox.logins == [("toko@x.id", "p@ss:word")]
    assert len(inbox.accepted) == 1


async def test_a_refused_message_is_retried_until_it_is_accepted():
    inbox = Inbox(refuse_first=2)
    controller, port = smtp_server(inbox)
    queue = MailQueue(SmtpTransport(f"smtp://127.0.0.1:{port}"), attempts=4, first_retry=0.01)
    await queue.start()
    try:
        queue.submit(_job(welcome()), "welcome")
        await queue.drained()
    finally:
        await queue.stop()
        controller.stop()
    assert inbox.attempts == 3 and len(inbox.accepted) == 1
    assert (queue.sent, queue.failed) == (1, 0)


def test_retries_back_off_exponentially():
    queue = MailQueue(SmtpTransport("smtp://127.0.0.1:1"), first_retry=2.0)
    assert [queue.retry_delay(attempt) for attempt in (1, 2, 3)] == [2.0, 4.0, 8.0]


async def test_a_message_that_fails_every_attempt_is_logged_and_the_next_is_sent(caplog):
    inbox = Inbox(refuse_word="Doomed")
    controller, port = smtp_server(inbox)
    queue = MailQueue(SmtpTransport(f"smtp://127.0.0.1:{port}"), attempts=3, first_retry=0.01)
    await queue.start()
    try:
        with caplog.at_level(logging.ERROR, logger="cloudstore.stores.mail"):
            queue.submit(_job(welcome("Doomed")), "welcome")
            queue.submit(_job(welcome("Lucky")), "welcome")
            await queue.drained()
    finally:
        await queue.stop()
        controller.stop()
    assert [str(m["To"].addresses[0].display_name) for _, _, m in inbox.accepted] == ["Lucky"]
    assert (queue.sent, queue.failed) == (1, 1)
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "mail not sent (welcome) after 3 attempts" in line
    assert "budi@example.com" not in line  # no address in the log


async def test_a_job_that_raises_is_retried_like_a_failed_send(inbox):
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("PostgreSQL went away")
        return welcome()

    queue = MailQueue(SmtpTransport(f"smtp://127.0.0.1:{inbox.port}"), first_retry=0.01)
    await queue.start()
    queue.submit(flaky, "order paid")
    await queue.drained()
    await queue.stop()
    assert len(calls) == 2 and len(inbox.accepted) == 1


async def test_queuing_before_the_queue_runs_is_logged_not_raised(caplog):
    queue = MailQueue(SmtpTransport("smtp://127.0.0.1:1"))
    with caplog.at_level(logging.ERROR, logger="cloudstore.stores.mail"):
        queue.submit(_job(welcome()), "welcome")
    assert "mail not sent (welcome): the mail queue is not running" in caplog.text


async def test_stopping_sends_what_is_queued_first(inbox):
    queue = MailQueue(SmtpTransport(f"smtp://127.0.0.1:{inbox.port}"))
    await queue.start()
    for _ in range(3):
        queue.submit(_job(welcome()), "welcome")
    await queue.stop()
    assert len(inbox.accepted) == 3


def _job(message: EmailMessage):
    async def job() -> EmailMessage:
        return message

    return job


def smtp_settings(postgres_url, dynamodb, tmp_path, port: int):
    return make_settings(
        postgres_url,
        dynamodb.endpoint,
        tmp_path / "data",
        mail_backend="smtp",
        smtp_url=f"smtp://127.0.0.1:{port}",
        mail_from="Cloud Store <shop@example.com>",
        public_url="https://shop.example.com",
    )


async def test_the_app_with_mail_backend_smtp_mails_through_the_server(
    postgres_url, dynamodb, tmp_path, inbox
):
    app = create_app(smtp_settings(postgres_url, dynamodb, tmp_path, inbox.port))
    async with app.test_app():
        email = unique_email()
        await register(app.test_client(), email=email)
        await app.extensions["cloudstore"].mail.drained()
    ((sender, recipients, message),) = inbox.accepted
    assert (sender, recipients) == ("shop@example.com", [email])
    assert "https://shop.example.com/" in text_body(message)


async def test_an_order_is_placed_while_the_mail_server_is_down(
    postgres_url, dynamodb, tmp_path, seed_products, caplog
):
    from cloudstore.shop.catalog import load_products

    nobody_listens = free_port()
    app = create_app(smtp_settings(postgres_url, dynamodb, tmp_path, nobody_listens))
    with caplog.at_level(logging.ERROR, logger="cloudstore.stores.mail"):
        async with app.test_app():
            await load_products(app.extensions["cloudstore"], seed_products)
            client = app.test_client()
            token = await register(client)
            order = await place_order(client, token)  # 201 asserted inside
            assert order["status"] == "pending"
    assert "mail queue stopped with 2 messages unsent" in caplog.text
