-- The conversation list (GET /v1/admin/conversations) pages a tenant's conversations by recent activity.
CREATE INDEX conversations_recent ON conversations (tenant_id, updated_at DESC, id DESC);
