-- 0004_envid_lookup.sql: Track by ENVID in one or two index probes, however many days are stored.
--
-- hop_events is partitioned by day and TRACK's ENVID carries no time, so looking it up in
-- hop_events probes every day partition's envid index: 1.4 ms at 31 partitions vs 0.3 ms at 3
-- (bench/README.md, issue 5). hop_envids maps an ENVID to the messages (at one MTA) that carry
-- it, in month partitions, so a lookup probes one or two small indexes; the hops are then read
-- from the one day partition each message key names (PgEventStore::HopsOf).
--
-- Written by the collector in the same transaction as the hops (PgEventStore::Append), one row
-- per message and ENVID, INSERT ... ON CONFLICT DO NOTHING: a resend or a later hop of the same
-- message adds nothing. Citus: the primary key includes message_key and the partition column
-- first_seen, and doubles as the lookup index (envid first), so each row costs one B-tree entry.
--
-- Retention (collector/retention) drops a month partition only once every day partition of
-- hop_events in that month is gone (PgEventStore::DropPartition, under the partition lock), so a
-- still-queued message, which keeps its day, keeps its ENVID too; never a row-by-row DELETE.
-- XXX: until the month's last day goes, an expired day leaves rows here whose hops are gone. They
-- hold no more than an ENVID and a message key, and a lookup finds no hops (no certifier, so
-- TRACK answers "no information"); at most a month beyond the message's own retention.
CREATE TABLE hop_envids (
  envid text COLLATE "C" NOT NULL CHECK (envid <> ''),
  message_key text COLLATE "C" NOT NULL,
  first_seen timestamptz NOT NULL,  -- the message's hop_events partition time
  PRIMARY KEY (envid, message_key, first_seen)
) PARTITION BY RANGE (first_seen);

-- One partition per UTC month, named hop_envids_pYYYYMM; same lock and idempotence as the day
-- partitions of hop_events.
CREATE FUNCTION mtrk_ensure_hop_envids_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  month_start date := date_trunc('month', day)::date;
  part text := format('hop_envids_p%s', to_char(day, 'YYYYMM'));
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('mtrk.hop_events.partition'));
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF hop_envids FOR VALUES FROM (%L) TO (%L)',
                 part, (month_start::timestamp AT TIME ZONE 'UTC'),
                 ((month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
END
$$;

-- The collector calls this before inserting a batch (once per day and process): the day's
-- partition of hop_events now comes with its month's partition of hop_envids.
CREATE OR REPLACE FUNCTION mtrk_ensure_hop_events_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  part text := format('hop_events_p%s', to_char(day, 'YYYYMMDD'));
BEGIN
  PERFORM mtrk_ensure_hop_envids_partition(day);
  IF to_regclass(part) IS NOT NULL THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('mtrk.hop_events.partition'));
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF hop_events FOR VALUES FROM (%L) TO (%L)',
                 part, (day::timestamp AT TIME ZONE 'UTC'),
                 ((day + 1)::timestamp AT TIME ZONE 'UTC'));
END
$$;

-- Called by retention after dropping a day of hop_events, under the same lock: drops the day's
-- month of hop_envids once no day partition of that month is left.
CREATE FUNCTION mtrk_drop_unused_hop_envids_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  part text := format('hop_envids_p%s', to_char(day, 'YYYYMM'));
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('mtrk.hop_events.partition'));
  IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'hop_events'::regclass
               AND c.relname LIKE format('hop\_events\_p%s__', to_char(day, 'YYYYMM'))) THEN
    RETURN false;
  END IF;
  EXECUTE format('DROP TABLE IF EXISTS %I', part);
  RETURN true;
END
$$;

-- Existing hops: every day partition's month, then one row per message and ENVID.
SELECT mtrk_ensure_hop_envids_partition(to_date(substr(c.relname, 13), 'YYYYMMDD'))
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'hop_events'::regclass AND c.relname ~ '^hop_events_p[0-9]{8}$';
INSERT INTO hop_envids (envid, message_key, first_seen)
SELECT DISTINCT envid, message_key, first_seen FROM hop_events WHERE envid <> '';

-- The per-day envid index served only the ENVID lookups (TRACK and staff search), which now go
-- through hop_envids: dropping it takes one B-tree insertion off every tracked hop at ingest.
DROP INDEX hop_events_envid_idx;
