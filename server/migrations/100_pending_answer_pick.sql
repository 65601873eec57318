-- The "Did you mean" passage a visitor picked with an owed question: a retry or the turn sweeper answers
-- the question as the turn would have (with that passage), not as words typed after an offer.
ALTER TABLE pending_answers ADD COLUMN pick uuid;
