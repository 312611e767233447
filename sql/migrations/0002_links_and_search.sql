-- 0002_links_and_search.sql: indexes for linking hops across MTAs and for staff search.
--
-- Linking (collector/link/linker.h) is done at lookup time, not at ingest: a hop's
-- next_queue_id ("queued as X", "forwarded as X") is joined to the hops whose queue_id is X, in
-- both directions; a bounce notification's client "bounce:Q" is joined to queue id Q; and
-- Message-ID joins what queue ids cannot. Because nothing is derived at
-- ingest, the order in which agents deliver (B's events before A's) cannot matter, and two
-- collectors need no coordination. These indexes make each join step an index probe.
--
-- Addresses are indexed with the "C" collation: byte order makes one B-tree serve both exact
-- match and prefix search (sender COLLATE "C" >= 'abc' AND < 'abd'), whatever the database's
-- default collation is. They replace 0001's default-collation address indexes, so ingest
-- maintains no more indexes than needed.

CREATE INDEX hop_events_next_queue_id_idx ON hop_events (next_queue_id) WHERE next_queue_id <> '';
-- bounce(8) notifications carry client "bounce:<queue id of the message they report on>" (agent
-- correlator): partial, so only notifications are indexed.
CREATE INDEX hop_events_bounce_client_idx ON hop_events (client) WHERE client LIKE 'bounce:%';

DROP INDEX hop_events_sender_idx;
DROP INDEX hop_events_final_recipient_idx;
CREATE INDEX hop_events_sender_c_idx ON hop_events ((sender COLLATE "C"));
CREATE INDEX hop_events_final_recipient_c_idx ON hop_events ((final_recipient COLLATE "C"));
-- ORCPT differs from the final recipient only after rewriting or expansion; partial, so the
-- common case costs nothing at ingest.
CREATE INDEX hop_events_original_recipient_c_idx ON hop_events ((original_recipient COLLATE "C"))
  WHERE original_recipient <> final_recipient;

-- Nothing looks hop events up by event_time (search and retention go by first_seen, the
-- partition key), so 0001's index only cost ingest.
DROP INDEX hop_events_event_time_idx;
