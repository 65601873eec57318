-- Fixed-window request counters shared by every instance: the PostgreSQL store of the HTTP rate limits
-- (when Redis is not configured) and the AI budget's requests per minute. A key is the SHA-256 of what
-- is counted (an address, a visitor session, a tenant, an API key), so no address is stored. One row per
-- key, reused when its window has passed; the retention sweep deletes rows whose window is long gone.
-- UNLOGGED: counters for the next minute are not worth a WAL write per request; after a crash (or on a
-- promoted replica) they start from zero, which only forgives one window.
CREATE UNLOGGED TABLE rate_limit_windows (
  key      bytea PRIMARY KEY CHECK (octet_length(key) = 32),
  hits     integer NOT NULL CHECK (hits >= 0),
  reset_at timestamptz NOT NULL
);
ALTER TABLE rate_limit_windows ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_windows FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_only ON rate_limit_windows USING (false) WITH CHECK (false);
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_windows TO parley_platform;
-- The app role may look (RLS shows it nothing); it counts only through the functions below.
GRANT SELECT ON rate_limit_windows TO parley_app;
CREATE INDEX rate_limit_windows_reset ON rate_limit_windows (reset_at);

-- One more hit for a key, atomically (the upsert locks the key's row): a window that has passed starts
-- again at 1. Returns the hits in the current window and when it ends.
CREATE FUNCTION parley_rate_limit_hit(p_key bytea, p_window_ms integer)
RETURNS TABLE (hits integer, reset_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  INSERT INTO rate_limit_windows AS w (key, hits, reset_at)
  VALUES (p_key, 1, clock_timestamp() + make_interval(secs => p_window_ms / 1000.0))
  ON CONFLICT (key) DO UPDATE
    SET hits = CASE WHEN w.reset_at <= clock_timestamp() THEN 1 ELSE w.hits + 1 END,
        reset_at = CASE WHEN w.reset_at <= clock_timestamp() THEN EXCLUDED.reset_at ELSE w.reset_at END
  RETURNING w.hits, w.reset_at
$$;
-- The current window of a key (no row: nothing counted).
CREATE FUNCTION parley_rate_limit_get(p_key bytea)
RETURNS TABLE (hits integer, reset_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT w.hits, w.reset_at FROM rate_limit_windows w WHERE w.key = p_key AND w.reset_at > clock_timestamp()
$$;
-- Takes one hit back (express-rate-limit's skipFailedRequests / skipSuccessfulRequests).
CREATE FUNCTION parley_rate_limit_undo(p_key bytea)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE rate_limit_windows SET hits = hits - 1 WHERE key = p_key AND hits > 0 AND reset_at > clock_timestamp()
$$;
CREATE FUNCTION parley_rate_limit_reset(p_key bytea)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DELETE FROM rate_limit_windows WHERE key = p_key
$$;
ALTER FUNCTION parley_rate_limit_hit(bytea, integer) OWNER TO parley_platform;
ALTER FUNCTION parley_rate_limit_get(bytea) OWNER TO parley_platform;
ALTER FUNCTION parley_rate_limit_undo(bytea) OWNER TO parley_platform;
ALTER FUNCTION parley_rate_limit_reset(bytea) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_rate_limit_hit(bytea, integer), parley_rate_limit_get(bytea), parley_rate_limit_undo(bytea), parley_rate_limit_reset(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_rate_limit_hit(bytea, integer), parley_rate_limit_get(bytea), parley_rate_limit_undo(bytea), parley_rate_limit_reset(bytea) TO parley_app;
