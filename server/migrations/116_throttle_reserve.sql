-- Sign-in attempts are counted before they are judged. Reading the counters before a password or code was
-- checked and counting the failure after let a burst sent at once pass the reading together: every
-- attempt was checked. parley_throttle_reserve decides and counts in one step, under the keys' row locks;
-- an attempt that then succeeds (or is never judged) is given back by parley_throttle_refund, and one that
-- fails is confirmed by parley_throttle_failed.
--
-- prior_blocked_until is the wait a key had before the attempt that started its current one, so that
-- giving that attempt back restores it.
ALTER TABLE sign_in_throttle ADD COLUMN IF NOT EXISTS prior_blocked_until timestamptz;

-- One attempt on every key at once. While any key waits: that wait, and nothing is counted. Else NULL,
-- and the attempt counts as a failure on every key (p_free, p_max_s: each key's limits, as
-- parley_throttle_fail), starting the wait a failure there would start: further attempts wait while this
-- one is judged. Rows are made and locked in key order, so two reservations never wait on each other in
-- a circle.
CREATE FUNCTION parley_throttle_reserve(p_keys bytea[], p_free integer[], p_max_s integer[], p_forget_s integer)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE waiting timestamptz;
BEGIN
  INSERT INTO sign_in_throttle (key, failures, last_failure_at)
    SELECT k, 0, now() FROM unnest(p_keys) AS k ORDER BY k
    ON CONFLICT (key) DO NOTHING;
  PERFORM 1 FROM sign_in_throttle t WHERE t.key = ANY (p_keys) ORDER BY t.key FOR UPDATE;
  SELECT max(t.blocked_until) INTO waiting FROM sign_in_throttle t WHERE t.key = ANY (p_keys) AND t.blocked_until > now();
  IF waiting IS NOT NULL THEN
    RETURN waiting;
  END IF;
  UPDATE sign_in_throttle AS t
    SET failures = c.n,
        last_failure_at = now(),
        prior_blocked_until = CASE WHEN c.n > c.free THEN t.blocked_until ELSE t.prior_blocked_until END,
        blocked_until = CASE
          WHEN c.n > c.free THEN now() + make_interval(secs => least(c.max_s, power(2, least(c.n - c.free, 30))::integer))
          ELSE t.blocked_until END
    FROM (
      SELECT u.k, u.free, u.max_s,
             CASE WHEN s.last_failure_at < now() - make_interval(secs => p_forget_s) THEN 1 ELSE s.failures + 1 END AS n
      FROM unnest(p_keys, p_free, p_max_s) AS u(k, free, max_s) JOIN sign_in_throttle s ON s.key = u.k
    ) c
    WHERE t.key = c.k;
  RETURN NULL;
END $$;

-- An attempt reserved and not failed is given back: one failure fewer on each key, and a wait it started
-- is undone (back to the key's wait before it; none while the failures left are free ones).
CREATE FUNCTION parley_throttle_refund(p_keys bytea[], p_free integer[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM 1 FROM sign_in_throttle t WHERE t.key = ANY (p_keys) ORDER BY t.key FOR UPDATE;
  UPDATE sign_in_throttle AS t
    SET failures = greatest(t.failures - 1, 0),
        blocked_until = CASE WHEN t.failures - 1 > u.free THEN t.prior_blocked_until END
    FROM unnest(p_keys, p_free) AS u(k, free)
    WHERE t.key = u.k AND t.failures > 0;
END $$;

-- An attempt reserved has failed: it stays counted, and a wait it started runs from now, as when failures
-- were counted after their check (a slow check does not eat into the wait).
CREATE FUNCTION parley_throttle_failed(p_keys bytea[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM 1 FROM sign_in_throttle t WHERE t.key = ANY (p_keys) ORDER BY t.key FOR UPDATE;
  UPDATE sign_in_throttle AS t
    SET blocked_until = t.blocked_until + (now() - t.last_failure_at), last_failure_at = now()
    WHERE t.key = ANY (p_keys) AND t.blocked_until > now();
END $$;

ALTER FUNCTION parley_throttle_reserve(bytea[], integer[], integer[], integer) OWNER TO parley_platform;
ALTER FUNCTION parley_throttle_refund(bytea[], integer[]) OWNER TO parley_platform;
ALTER FUNCTION parley_throttle_failed(bytea[]) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_throttle_reserve(bytea[], integer[], integer[], integer), parley_throttle_refund(bytea[], integer[]),
  parley_throttle_failed(bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_throttle_reserve(bytea[], integer[], integer[], integer), parley_throttle_refund(bytea[], integer[]),
  parley_throttle_failed(bytea[]) TO parley_app;
