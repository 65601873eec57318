-- Several hits for a key at once: what an instance let through without waiting for the count (see
-- http/limit-store.ts) is written as one addition per key. As parley_rate_limit_hit otherwise: a window
-- that has passed starts again, at the hits added.
CREATE FUNCTION parley_rate_limit_add(p_key bytea, p_window_ms integer, p_hits integer)
RETURNS TABLE (hits integer, reset_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  INSERT INTO rate_limit_windows AS w (key, hits, reset_at)
  VALUES (p_key, p_hits, clock_timestamp() + make_interval(secs => p_window_ms / 1000.0))
  ON CONFLICT (key) DO UPDATE
    SET hits = CASE WHEN w.reset_at <= clock_timestamp() THEN p_hits ELSE w.hits + p_hits END,
        reset_at = CASE WHEN w.reset_at <= clock_timestamp() THEN EXCLUDED.reset_at ELSE w.reset_at END
  RETURNING w.hits, w.reset_at
$$;
ALTER FUNCTION parley_rate_limit_add(bytea, integer, integer) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_rate_limit_add(bytea, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_rate_limit_add(bytea, integer, integer) TO parley_app;
