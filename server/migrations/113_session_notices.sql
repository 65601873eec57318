-- A console session ended (signed out, ended by an admin, its member disabled) tells every instance with the
-- commit, as a key's or a member's change does (106, 111): streams open under it (the live inbox) are
-- checked again at once instead of at their next heartbeat.
CREATE TRIGGER member_sessions_notify_end
  AFTER UPDATE OF revoked_at ON member_sessions
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION parley_notify_key_change();
