-- Retention and open handoffs: a conversation past its `messages` window whose handoff is still open
-- (waiting for a person, or taken by one) is not deleted until the handoff is resolved; the sweep marks it
-- held the first time it passes it by, and counts it then in the tenant's retention.sweep entry, so a
-- conversation kept past its window is never kept silently, nor counted again each run. Resolving the
-- handoff clears the mark (the conversation keeps its window from the resolution, as from any activity).
ALTER TABLE conversations ADD COLUMN retention_held_at timestamptz;
GRANT UPDATE (retention_held_at) ON conversations TO parley_platform;
