-- Each running step's process group on its host, so a server that starts again after a crash
-- can find what its predecessor left running and end it before any run resumes. A process is
-- named by its pid and the time it started (clock ticks since boot), so a later process given
-- the same pid is never mistaken for it.
CREATE TABLE step_processes (
    host            TEXT NOT NULL,
    pgid            INTEGER NOT NULL,
    leader_pid      INTEGER NOT NULL,
    leader_started  INTEGER NOT NULL,
    program_pid     INTEGER NOT NULL,
    program_started INTEGER NOT NULL,
    boot            TEXT NOT NULL,
    server_pid      INTEGER NOT NULL,
    server_started  INTEGER NOT NULL,
    ticket          TEXT NOT NULL,
    step            INTEGER NOT NULL,
    mode            TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    recorded_ns     INTEGER NOT NULL,
    PRIMARY KEY (host, pgid)
) STRICT;
