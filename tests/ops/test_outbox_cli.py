"""`cloudstore outbox [--last N]`: what MAIL_BACKEND=outbox wrote, newest last, with each
message's date, recipient, subject and links (as Django's file backend serves developers)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from cloudstore.cli import main
from tests.helpers import register, unique_email

NEW = "sandi-baru-1"


@pytest.fixture
def outbox_env(settings, monkeypatch):
    monkeypatch.setenv("CLOUDSTORE_DATA_DIR", str(settings.data_dir))
    return settings


async def mailed(app, client) -> str:
    email = unique_email()
    await register(client, name="Sari", email=email)
    await client.post("/api/auth/password-reset", json={"email": email})
    await app.extensions["cloudstore"].mail.drained()
    return email


async def test_outbox_prints_date_recipient_subject_and_links(app, client, outbox_env, capsys):
    email = await mailed(app, client)
    assert main(["outbox"]) == 0
    out = capsys.readouterr().out
    assert out.index("Subject: Welcome to Cloud Store") < out.index("Subject: Reset your")
    assert f"To:      Sari <{email}>" in out
    assert re.search(r"^Date:    \w{3}, \d{1,2} \w{3} \d{4} ", out, re.M)
    assert re.search(r"^Link:    http://localhost:5000/reset-password\?token=\S+$", out, re.M)


async def test_last_n_prints_only_the_newest(app, client, outbox_env, capsys):
    await mailed(app, client)
    assert main(["outbox", "--last", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("Subject:") == 1 and "Reset your Cloud Store password" in out


async def test_the_link_the_outbox_prints_resets_the_password(app, client, outbox_env, capsys):
    email = await mailed(app, client)
    main(["outbox", "--last", "1"])
    (link,) = re.findall(r"^Link:    (\S+)$", capsys.readouterr().out, re.M)
    parts = urlsplit(link)
    page = await client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    token = parts.query.removeprefix("token=")
    response = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": NEW}
    )
    assert response.status_code == 200
    login = await client.post("/api/auth/login", json={"email": email, "password": NEW})
    assert login.status_code == 200


def test_an_empty_outbox_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLOUDSTORE_DATA_DIR", str(tmp_path))
    assert main(["outbox"]) == 0
    assert "no mail in" in capsys.readouterr().out


async def test_outbox_files_are_private(app, client, settings):
    await mailed(app, client)
    files = list((settings.data_dir / "outbox").glob("*.eml"))
    assert files and {f.stat().st_mode & 0o777 for f in files} == {0o600}
