-- 0010_helpdesk.sql: helpdesk staff accounts, sessions, API tokens and the append-only audit log.
--
-- Used by mtrk-gateway's helpdesk (mtqp-gateway/helpdesk/), which connects to PostgreSQL for these
-- tables only (--helpdesk-db); hop events stay behind the collector. Applied like every migration
-- by the collector's migrator, in its transaction (no BEGIN/COMMIT here).
--
-- Secrets are never stored: passwords as scrypt hashes (mtqp-gateway/helpdesk/password.h), session
-- cookies and bearer tokens as hex SHA-256 of the random value handed out once.

CREATE TABLE helpdesk_users (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  role text NOT NULL CHECK (role IN ('helpdesk', 'domain_admin', 'auditor', 'admin')),
  -- domain_admin only: the domains whose messages (sender or a recipient) they may see.
  domains text[] NOT NULL DEFAULT '{}',
  password_hash text NOT NULL DEFAULT '',  -- "scrypt$N$r$p$salt$hash" (base64); '' = no password
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT helpdesk_users_domains_check CHECK (role = 'domain_admin' OR domains = '{}')
);

CREATE TABLE helpdesk_sessions (
  token_sha256 text PRIMARY KEY,  -- of the cookie value
  user_id bigint NOT NULL REFERENCES helpdesk_users (id) ON DELETE CASCADE,
  csrf_token text NOT NULL,  -- sent back in X-CSRF-Token on state-changing requests
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX helpdesk_sessions_expires ON helpdesk_sessions (expires_at);

CREATE TABLE helpdesk_api_tokens (
  id bigserial PRIMARY KEY,
  token_sha256 text NOT NULL UNIQUE,
  user_id bigint NOT NULL REFERENCES helpdesk_users (id) ON DELETE CASCADE,
  label text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,  -- NULL: until revoked
  revoked_at timestamptz
);

-- Who looked up what, when, and how many results they got; also refused lookups. Append-only:
-- the triggers below refuse UPDATE, DELETE and TRUNCATE for every role, the owner included
-- (REVOKE alone would not bind the owner, which is the role the gateway usually connects as).
CREATE TABLE helpdesk_audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  user_name text NOT NULL,  -- a name, not a foreign key: the record outlives the account
  role text NOT NULL,
  action text NOT NULL,      -- "search", "timeline", "export", "audit", "login", ...
  query text NOT NULL,       -- what was asked, as canonical JSON
  result_count integer NOT NULL DEFAULT 0,
  outcome text NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),
  client text NOT NULL DEFAULT ''  -- remote address
);
CREATE INDEX helpdesk_audit_log_at ON helpdesk_audit_log (at);

CREATE FUNCTION helpdesk_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'helpdesk_audit_log is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER helpdesk_audit_log_no_update BEFORE UPDATE OR DELETE ON helpdesk_audit_log
  FOR EACH ROW EXECUTE FUNCTION helpdesk_audit_log_append_only();
CREATE TRIGGER helpdesk_audit_log_no_truncate BEFORE TRUNCATE ON helpdesk_audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON helpdesk_audit_log FROM PUBLIC;
