-- Attempt counters for the login and registration throttle, shared by every worker and
-- every instance. One row per counted attempt: a moving window is a count over a time range.
-- `bucket` is an HMAC of the counter's name (the JWT secret keys it), never a raw email or
-- address. Rows are deleted once expires_at has passed.

CREATE TABLE login_attempts (
    attempt_id  BIGSERIAL PRIMARY KEY,
    bucket      VARCHAR(64) NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX login_attempts_bucket_at ON login_attempts (bucket, at);
CREATE INDEX login_attempts_expires_at ON login_attempts (expires_at);
