-- The element list reads the codes of one item's (at one site) unresolved exception messages
-- each time it opens (workbench.cache.exception_reads.open_codes): without an index that is a
-- scan of every stored message (about 80 ms on the large demo's 245,000 messages).

CREATE INDEX ix_exception_messages_item ON exception_messages (item, site, resolved_on);
