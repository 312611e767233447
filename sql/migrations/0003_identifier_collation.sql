-- 0003_identifier_collation.sql: identifiers compare as bytes (COLLATE "C").
--
-- The key and identifier columns hold hex digests, queue ids, ENVIDs, Message-IDs and client
-- strings: they are only ever compared for equality (or sorted to lock rows in one order), never
-- shown in a language's order. Under the database's default collation (C.UTF-8 in our test and
-- bench clusters, often en_US.UTF-8 in production; PostgreSQL 15 treats neither as "C") every
-- B-tree comparison on them goes through the locale's strcoll; under "C" it is a memcmp. Measured
-- on the bench schema (bench/README.md, issue 5): a single-stream COPY of 400k hops into the
-- indexed table, median of 5 alternating rounds, 56.7k/s -> 58.8k/s (+4%; the rounds overlap).
-- Equality gives the same answer under both: C.UTF-8 and en_US.UTF-8 are deterministic.
--
-- Queries need no change: a parameter or literal has the default collation, which yields to a
-- column's explicit one, so `message_key = ANY($1::text[])`, `envid = $1` etc. compare under "C"
-- and keep using the rebuilt indexes. The address columns (sender, recipients) keep the default
-- collation; 0002 already indexes them as (col COLLATE "C") expressions.
--
-- text -> text COLLATE "C" is binary-compatible, so PostgreSQL does not rewrite the table; it
-- rebuilds the indexes on these columns (the primary key, envid, Message-ID, queue id,
-- next-queue-id and bounce-client indexes) once, under an ACCESS EXCLUSIVE lock.
ALTER TABLE hop_events
  ALTER COLUMN message_key TYPE text COLLATE "C",
  ALTER COLUMN event_id TYPE text COLLATE "C",
  ALTER COLUMN queue_id TYPE text COLLATE "C",
  ALTER COLUMN envid TYPE text COLLATE "C",
  ALTER COLUMN message_id TYPE text COLLATE "C",
  ALTER COLUMN next_queue_id TYPE text COLLATE "C",
  ALTER COLUMN client TYPE text COLLATE "C";
