-- What an operator reads at the moment of the call (issue 11): knowledge-base articles with
-- every version kept, intake templates per category, the referral directory of bodies
-- outside the hotline, and announcements for an area and a time window.
-- Lists are JSON arrays in TEXT; dates are `YYYY-MM-DD` local days; times epoch ms.
-- Keep in step with the other backend's 0009_intake_texts.sql.
CREATE TABLE kb_articles (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    categories TEXT NOT NULL,
    unit       TEXT REFERENCES units(code),
    tags       TEXT NOT NULL,
    valid_from TEXT,
    valid_to   TEXT,
    version    BIGINT NOT NULL,
    active     BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX kb_articles_unit ON kb_articles(unit);

-- Every version of every article, the current one included.
CREATE TABLE kb_versions (
    id         TEXT NOT NULL REFERENCES kb_articles(id),
    version    BIGINT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    categories TEXT NOT NULL,
    unit       TEXT,
    tags       TEXT NOT NULL,
    valid_from TEXT,
    valid_to   TEXT,
    active     BIGINT NOT NULL,
    edited_at  BIGINT NOT NULL,
    edited_by  TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE intake_templates (
    category   TEXT PRIMARY KEY REFERENCES categories(code),
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE referrals (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    handles    TEXT NOT NULL,
    phone      TEXT NOT NULL,
    address    TEXT NOT NULL,
    hours      TEXT NOT NULL,
    keywords   TEXT NOT NULL,
    active     BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE announcements (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    districts  TEXT NOT NULL,
    streets    TEXT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    unit       TEXT REFERENCES units(code),
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX announcements_window ON announcements(ends_at, starts_at);
