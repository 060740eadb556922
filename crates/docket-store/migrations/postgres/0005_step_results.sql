-- What a step left for people to read besides its log: a report's result table, the rows a
-- write changed. One row per (ticket, run, step); a step that runs again replaces it. `body`
-- is the result as JSON (columns, rows, row_count, truncated, rows_changed).
CREATE TABLE step_results (
    ticket TEXT NOT NULL,
    run    BIGINT NOT NULL,
    step   BIGINT NOT NULL,
    body   json NOT NULL,
    at     TEXT NOT NULL,
    PRIMARY KEY (ticket, run, step)
);
