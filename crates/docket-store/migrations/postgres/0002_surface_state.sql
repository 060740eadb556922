-- Small values the chat and web surfaces keep between requests: message ids per ticket,
-- conversation references, seen event ids, sessions. Namespaced by scope.
CREATE TABLE surface_state (
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_ns BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX surface_state_by_age ON surface_state (scope, updated_ns);
