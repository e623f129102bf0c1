-- Tough problems (疑难问题, issue 12): a matter tracked across units until every part is
-- done. Keep in step with the other backend's 0013_problems.sql.
CREATE TABLE problems (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    category    TEXT REFERENCES categories(code),
    place       TEXT REFERENCES jurisdictions(code),
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    closed_at   BIGINT
);
CREATE INDEX problems_status ON problems(status, created_at);
-- The orders behind a problem; an order may be behind more than one.
CREATE TABLE problem_orders (
    problem_id TEXT NOT NULL REFERENCES problems(id),
    number     TEXT NOT NULL REFERENCES orders(number),
    PRIMARY KEY (problem_id, number)
);
CREATE INDEX problem_orders_number ON problem_orders(number);
-- Each responsible unit's part, numbered from 1 within the problem.
CREATE TABLE problem_parts (
    problem_id TEXT NOT NULL REFERENCES problems(id),
    part       BIGINT NOT NULL,
    unit       TEXT NOT NULL REFERENCES units(code),
    task       TEXT NOT NULL,
    due_day    TEXT NOT NULL,
    done_at    BIGINT,
    done_by    TEXT,
    PRIMARY KEY (problem_id, part)
);
CREATE INDEX problem_parts_unit ON problem_parts(unit, problem_id);
-- What the units reported, in order (`kind`: progress or done).
CREATE TABLE problem_reports (
    problem_id TEXT NOT NULL REFERENCES problems(id),
    seq        BIGINT NOT NULL,
    part       BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    note       TEXT NOT NULL,
    at         BIGINT NOT NULL,
    by_user    TEXT NOT NULL,
    PRIMARY KEY (problem_id, seq)
);
-- Layout 3 of the rollups: the tough problems' signals by category × place. An empty
-- database is counted under it; one with orders is recounted in full when next opened.
UPDATE meta SET value = '3' WHERE key = 'rollup.layout' AND NOT EXISTS (SELECT 1 FROM orders);
