-- One-time password-reset links ("forgot password"). Only the SHA-256 of the token sent by
-- mail is stored. A link works once (used_at), until expires_at (an hour), and only while
-- the account's password is the one it had when the link was made (password_changed_at):
-- any password change, by any means, voids every earlier link.

CREATE TABLE password_resets (
    token_hash           CHAR(64) PRIMARY KEY,
    user_id              VARCHAR(50) NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    password_changed_at  TIMESTAMPTZ NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at           TIMESTAMPTZ NOT NULL,
    used_at              TIMESTAMPTZ
);

CREATE INDEX password_resets_user_id ON password_resets (user_id);
CREATE INDEX password_resets_expires_at ON password_resets (expires_at);
