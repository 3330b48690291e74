-- Server-side sessions: one row per login. The token (Bearer or the session cookie) carries
-- the random session id in its `sid` claim; a session ends when revoked_at is set (logout,
-- logout everywhere, a password change, a disabled account) or at expires_at.

CREATE TABLE sessions (
    session_id  VARCHAR(64) PRIMARY KEY,
    user_id     VARCHAR(50) NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
