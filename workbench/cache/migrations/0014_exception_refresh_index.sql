-- The planning day of the last refresh (max(last_seen)) and its time (max(last_seen_at)) are
-- read each time the Exceptions list or the Overview opens: without an index each is a scan of
-- every stored message (about 170 ms each on the large demo's 242,000 messages).

CREATE INDEX ix_exception_messages_last_seen ON exception_messages (last_seen);
CREATE INDEX ix_exception_messages_last_seen_at ON exception_messages (last_seen_at);
