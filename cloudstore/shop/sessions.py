"""Sessions: starting one at login, checking one on each request, ending them.

Every check of a token asks PostgreSQL about its session at most every `RECHECK_SECONDS` per
worker, so a logout, a disabled account or a new role reaches every worker within that time.
While PostgreSQL is down a worker keeps trusting what it last learnt of a session for at
most `TRUST_WHILE_DOWN`, then answers 503; sessions it ends meanwhile stay ended here, and
are written to PostgreSQL once it answers again. That memory stands in for PostgreSQL only
when it failed to answer: once a check found it down, checks use the memory without waiting
for it until its probe (`stores/postgres.py`, every 0.5 s) finds it answering again; from
then on every check asks it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass

from cloudstore.auth import TokenClaims
from cloudstore.backends import Backends
from cloudstore.domain.accounts import User
from cloudstore.domain.errors import BackendUnavailable, ErrorCode, Unauthorized
from cloudstore.stores.sessions import Revocation

log = logging.getLogger(__name__)
SESSION_ENDED = "session has ended; please log in again"
PENDING_RETRY_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in session: its account, its id and the token that carries it."""

    user: User
    token: str
    session_id: str


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


async def start(backends: Backends, user: User) -> Session:
    """A new session for `user`, and its token."""
    session_id = new_session_id()
    expires_at = backends.tokens.expires_at
    await backends.sessions.create(session_id, user.user_id, expires_at)
    token = backends.tokens.issue(user.user_id, user.email, user.role, session_id, expires_at)
    return Session(user, token, session_id)


async def user_for(backends: Backends, claims: TokenClaims) -> User:
    """The account of a live session; 401 when the session is over."""
    cache = backends.session_cache
    known = cache.get(claims.session_id)
    now = cache.clock()
    user = None
    if known is not None and known.fresh(now):
        # The account itself may have changed here (a profile saved): prefer that copy.
        user = backends.user_cache.get(known.user_id) if known.user else None
        if known.user is None or user is not None:
            return _alive(known.user and user, claims)
    if known is not None and backends.postgres.down and known.trusted_while_down(now):
        return _alive(known.user, claims)  # no wait for a PostgreSQL known not to answer
    try:
        await _write_pending(backends)
        state = await backends.sessions.state(claims.session_id)
    except BackendUnavailable:
        if known is not None and known.trusted_while_down(now):
            return _alive(known.user, claims)
        raise
    if state is None:
        cache.remember(claims.session_id, claims.user_id, None)
        raise Unauthorized(SESSION_ENDED, code=ErrorCode.TOKEN_INVALID)
    alive = state.alive
    cache.remember(claims.session_id, state.user.user_id, state.user if alive else None)
    if alive:
        backends.user_cache.put(state.user)
    return _alive(state.user if alive else None, claims)


def _alive(user: User | None, claims: TokenClaims) -> User:
    if user is None or user.user_id != claims.user_id:
        raise Unauthorized(SESSION_ENDED, code=ErrorCode.TOKEN_INVALID)
    return user


async def end(backends: Backends, session_id: str, user_id: str) -> None:
    """Log one session out."""
    backends.session_cache.ended(session_id, user_id)
    await _revoke(backends, Revocation(user_id, session_id=session_id))


async def end_all(backends: Backends, user_id: str, keep: str | None = None) -> None:
    """Log out every session of `user_id` (but `keep`, the one asking, if given)."""
    backends.session_cache.all_ended(user_id, keep)
    await _revoke(backends, Revocation(user_id, keep=keep))


async def _revoke(backends: Backends, revocation: Revocation) -> None:
    try:
        await _apply(backends, revocation)
    except BackendUnavailable:
        log.warning("PostgreSQL unavailable: a logout is kept here and written when it returns")
        cache = backends.session_cache
        cache.pending.append(revocation)
        if cache.writer is None or cache.writer.done():
            cache.writer = asyncio.ensure_future(_write_pending_when_back(backends))


async def _write_pending_when_back(backends: Backends) -> None:
    """Write the logouts kept here as soon as PostgreSQL answers, requests or not, so the
    other workers and instances learn of them."""
    while backends.session_cache.pending:
        await asyncio.sleep(PENDING_RETRY_SECONDS)
        with contextlib.suppress(BackendUnavailable):
            await _write_pending(backends)


async def _apply(backends: Backends, revocation: Revocation) -> None:
    if revocation.session_id is not None:
        await backends.sessions.revoke(revocation.session_id)
    else:
        await backends.sessions.revoke_all(revocation.user_id, keep=revocation.keep)


async def _write_pending(backends: Backends) -> None:
    pending = backends.session_cache.pending
    while pending:
        await _apply(backends, pending[0])
        pending.pop(0)
