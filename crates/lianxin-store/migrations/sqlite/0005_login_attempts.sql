-- Every sign-in attempt that was checked (issue 9): who was tried, from where, when, and
-- how it ended ('success' or 'failure'); never the password. Throttling counts the
-- failures here, so it survives restarts and holds across processes. Keep in step with
-- the other backend's 0005_login_attempts.sql.
CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at       BIGINT NOT NULL,
    username TEXT NOT NULL,
    address  TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    -- How the sign-in came: 'api' or 'console'.
    via      TEXT NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts(username, at);
CREATE INDEX login_attempts_address ON login_attempts(address, at);
