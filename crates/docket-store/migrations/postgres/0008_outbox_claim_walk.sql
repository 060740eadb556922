-- Claiming notifications walks the pending messages in the order they come due and stops at
-- the first few it can take, instead of grouping every pending message: with tens of
-- thousands waiting behind a chat's pacing, the old claim read them all on every pass. The
-- time index carries the id (the walk's tie-break) so the walk needs no sort, and the thread
-- index leads with the ticket, so a claim's messages are found from its tickets.
DROP INDEX outbox_pending_by_thread;
CREATE INDEX outbox_pending_by_ticket ON outbox (ticket, notifier, id)
    WHERE delivered_at IS NULL AND NOT gave_up;
DROP INDEX outbox_pending_by_time;
CREATE INDEX outbox_pending_by_time ON outbox (next_attempt_ns, id)
    WHERE delivered_at IS NULL AND NOT gave_up;
