"""Reading what the shop mailed: the outbox (MAIL_BACKEND=outbox, the default) after the
mail queue has sent everything it holds."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

from cloudstore.stores.mail import links_in, outbox_entries


async def sent_mail(app, to: str | None = None) -> list[EmailMessage]:
    """Every message in the app's outbox (to `to` only, if given), oldest first."""
    backends = app.extensions["cloudstore"]
    await backends.mail.drained()
    messages = [entry.message for entry in outbox_entries(backends.settings.outbox_dir)]
    if to is not None:
        messages = [m for m in messages if m["To"].addresses[0].addr_spec == to]
    return messages


def reset_link(message: EmailMessage) -> str:
    (link,) = [link for link in links_in(message) if "/reset-password?" in link]
    return link


def reset_token(message: EmailMessage) -> str:
    return parse_qs(urlsplit(reset_link(message)).query)["token"][0]


async def reset_token_for(app, email: str) -> str:
    """The token of the latest reset link mailed to `email`."""
    mails = [m for m in await sent_mail(app, to=email) if "Reset" in str(m["Subject"])]
    return reset_token(mails[-1])
