-- 0005_recipient_lookup.sql: staff search by exact recipient or recipient prefix in one or two
-- index probes, however many days are stored.
--
-- Staff search has no time bound by default, and a recipient carries no time, so searching
-- hop_events by recipient probed both recipient indexes of every day partition: p50 0.95 ms at
-- 1M hops, 1.5-1.8 ms at 10M (31 partitions; bench/README.md, issue 5). hop_recipients maps an
-- address to the messages (at one MTA) that have a hop for it, in month partitions, as
-- hop_envids (0004) does for ENVIDs; PgEventStore::Search then reads the hops of those messages
-- by primary key in their own day partition.
--
-- One row per message and address: the final recipient and, when it differs (rewriting,
-- expansion), the original recipient (ORCPT), which staff search matches too. Written in the
-- batch's transaction with the ENVID rows (pg_message_index.cc), ON CONFLICT DO NOTHING, so a
-- resend or a later hop (e.g. delayed, then delivered) adds nothing. The primary key is the
-- lookup index (recipient first, "C" collation, so a prefix is a byte range on it) and includes
-- the partition column, as Citus requires.
CREATE TABLE hop_recipients (
  recipient text COLLATE "C" NOT NULL CHECK (recipient <> ''),
  message_key text COLLATE "C" NOT NULL,
  first_seen timestamptz NOT NULL,  -- the message's hop_events partition time
  PRIMARY KEY (recipient, message_key, first_seen)
) PARTITION BY RANGE (first_seen);

-- The month partitions of hop_recipients live and die with those of hop_envids (same names but
-- the prefix, same bounds, same lock), so the two indexes always cover the same months and
-- retention keeps one rule: a month goes when its last day of hop_events goes. Extended here
-- rather than given a second function so that no caller can create or drop one without the
-- other.
CREATE OR REPLACE FUNCTION mtrk_ensure_hop_envids_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  month_start date := date_trunc('month', day)::date;
  month_end date := (date_trunc('month', day) + interval '1 month')::date;
  envids text := format('hop_envids_p%s', to_char(day, 'YYYYMM'));
  recipients text := format('hop_recipients_p%s', to_char(day, 'YYYYMM'));
BEGIN
  -- Both present is the common case (every batch's first call per day and process): no lock.
  -- A month created before 0005 has only its hop_envids partition; the rest fills it in.
  IF to_regclass(envids) IS NOT NULL AND to_regclass(recipients) IS NOT NULL THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('mtrk.hop_events.partition'));
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF hop_envids FOR VALUES FROM (%L) TO (%L)',
                 envids, (month_start::timestamp AT TIME ZONE 'UTC'),
                 (month_end::timestamp AT TIME ZONE 'UTC'));
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF hop_recipients FOR VALUES FROM (%L) TO (%L)',
                 recipients, (month_start::timestamp AT TIME ZONE 'UTC'),
                 (month_end::timestamp AT TIME ZONE 'UTC'));
END
$$;

-- Retention's rule of 0004, unchanged, now for both month partitions: a still-queued message
-- keeps its day, so its month keeps its ENVID and recipients too. The XXX of 0004 applies here
-- as well: an expired day's rows stay until its month's last day goes, and a search that finds
-- them finds no hops, so they yield no result.
CREATE OR REPLACE FUNCTION mtrk_drop_unused_hop_envids_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('mtrk.hop_events.partition'));
  IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'hop_events'::regclass
               AND c.relname LIKE format('hop\_events\_p%s__', to_char(day, 'YYYYMM'))) THEN
    RETURN false;
  END IF;
  EXECUTE format('DROP TABLE IF EXISTS %I', format('hop_envids_p%s', to_char(day, 'YYYYMM')));
  EXECUTE format('DROP TABLE IF EXISTS %I', format('hop_recipients_p%s', to_char(day, 'YYYYMM')));
  RETURN true;
END
$$;

-- Existing hops: every day partition's month (hop_envids' months are there already, this adds
-- hop_recipients'), then one row per message and address.
SELECT mtrk_ensure_hop_envids_partition(to_date(substr(c.relname, 13), 'YYYYMMDD'))
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'hop_events'::regclass AND c.relname ~ '^hop_events_p[0-9]{8}$';
INSERT INTO hop_recipients (recipient, message_key, first_seen)
SELECT final_recipient, message_key, first_seen FROM hop_events WHERE final_recipient <> ''
UNION
SELECT original_recipient, message_key, first_seen FROM hop_events
WHERE original_recipient <> '' AND original_recipient <> final_recipient;

-- The per-day recipient indexes of 0002 served only staff search by exact recipient and prefix,
-- which now go through hop_recipients (a substring match cannot use a B-tree and scans the hops
-- either way): dropping them takes one B-tree insertion (two when ORCPT differs) off every hop
-- at ingest, which pays for the hop_recipients row of the message's first hop per address.
DROP INDEX hop_events_final_recipient_c_idx;
DROP INDEX hop_events_original_recipient_c_idx;
