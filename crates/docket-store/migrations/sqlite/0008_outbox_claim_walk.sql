-- Claiming notifications walks the pending messages in the order they come due and stops at
-- the first few it can take, instead of grouping every pending message: with tens of
-- thousands waiting behind a chat's pacing, the old claim read them all inside the writer on
-- every pass. The thread index now leads with the ticket, so a claim's messages are found
-- from its tickets (the time index already ends in the row id, the walk's tie-break).
DROP INDEX outbox_pending_by_thread;
CREATE INDEX outbox_pending_by_ticket ON outbox (ticket, notifier, id)
    WHERE delivered_at IS NULL AND gave_up = 0;
