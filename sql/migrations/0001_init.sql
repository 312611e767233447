-- 0001_init.sql: hop events (mtrk.v1.HopEvent) and the migration ledger.
--
-- Applied by mtrk-collector at start (collector/store/pg/migrator.cc), in one transaction under an
-- advisory lock, then recorded in schema_migrations. Forward-only: never edit once merged; add
-- 0002_*.sql instead. No BEGIN/COMMIT here: the migrator owns the transaction.
--
-- Designed for Citus later: hop_events will be distributed by message_key, so every primary or
-- unique key includes message_key and the partition column first_seen, and nothing is unique on
-- another column alone (event_id is unique only together with them; it is a hash of facts that
-- include the message key, so that is the same thing).

CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per hop event: what one MTA knows about one recipient of one message (RFC 3886 §3.3).
-- Times are UTC timestamptz with microseconds; NULL means "not known / not applicable" (0 on the
-- wire). Strings are never NULL: the empty string means absent, as in proto3.
CREATE TABLE hop_events (
  -- hex SHA-256 (first 16 octets) of reporting_host, mta_instance, queue_id, first_seen: one
  -- message at one MTA. Computed by the collector (collector/store/pg/pg_event_store.cc).
  message_key text NOT NULL,
  -- queue_first_seen: with queue_id it keys the message at this MTA, so a reused queue id never
  -- merges two messages. Also the partition column: a message's rows share one partition.
  first_seen timestamptz NOT NULL,
  event_id text NOT NULL,  -- hex SHA-256 of the event's facts: resends are deduplicated

  reporting_host text NOT NULL,
  reporting_mta text NOT NULL DEFAULT '',
  mta_instance text NOT NULL,
  queue_id text NOT NULL,
  message_id text NOT NULL DEFAULT '',
  sender text NOT NULL DEFAULT '',
  client text NOT NULL DEFAULT '',

  envid text NOT NULL DEFAULT '',  -- xtext decoded, case-sensitive
  certifier bytea,                 -- B = SHA1(A), 20 octets; NULL if the message is not tracked
  mtrk_timeout_s bigint NOT NULL DEFAULT 0,

  original_recipient text NOT NULL DEFAULT '',
  final_recipient text NOT NULL,
  action text NOT NULL,  -- RFC 3886 §3.3.3 spelling
  status text NOT NULL DEFAULT '',
  remote_mta text NOT NULL DEFAULT '',
  relay text NOT NULL DEFAULT '',
  diagnostic text NOT NULL DEFAULT '',
  arrival_time timestamptz,
  last_attempt_time timestamptz,
  will_retry_until timestamptz,

  next_queue_id text NOT NULL DEFAULT '',
  expansion_member boolean NOT NULL DEFAULT false,  -- staff only, never shown to an originator
  event_time timestamptz NOT NULL,

  stored_at timestamptz NOT NULL DEFAULT now(),  -- when the collector committed it

  CONSTRAINT hop_events_action_check CHECK (action IN ('delivered', 'expanded', 'relayed',
      'transferred', 'delayed', 'failed', 'opaque')),
  CONSTRAINT hop_events_certifier_check CHECK (certifier IS NULL OR octet_length(certifier) = 20),
  PRIMARY KEY (message_key, first_seen, event_id)
) PARTITION BY RANGE (first_seen);

-- Lookups: TRACK by ENVID, staff by Message-ID, queue id, addresses; retention by event_time.
CREATE INDEX hop_events_envid_idx ON hop_events (envid) WHERE envid <> '';
CREATE INDEX hop_events_message_id_idx ON hop_events (message_id) WHERE message_id <> '';
CREATE INDEX hop_events_queue_id_idx ON hop_events (queue_id);
CREATE INDEX hop_events_final_recipient_idx ON hop_events (final_recipient);
CREATE INDEX hop_events_sender_idx ON hop_events (sender);
CREATE INDEX hop_events_event_time_idx ON hop_events (event_time);

-- One partition per UTC day of first_seen, created on demand by the collector before it inserts
-- a batch (there is no DEFAULT partition: rows in a default partition would block creating the
-- day's partition later, and retention drops whole days). Idempotent and safe to call
-- concurrently: creators serialize on an advisory lock, and the existence check is repeated
-- under it.
CREATE FUNCTION mtrk_ensure_hop_events_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  part text := format('hop_events_p%s', to_char(day, 'YYYYMMDD'));
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('mtrk.hop_events.partition'));
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF hop_events FOR VALUES FROM (%L) TO (%L)',
                 part, (day::timestamp AT TIME ZONE 'UTC'),
                 ((day + 1)::timestamp AT TIME ZONE 'UTC'));
END
$$;
