-- Every page view without a visitor secret creates a visitor, so the retention sweep also removes
-- visitors that never started a conversation, hold no live refresh token and have not been seen within
-- the retention period. Their refresh tokens go with them (ON DELETE CASCADE).
GRANT DELETE ON visitors TO parley_platform;
