-- Questions asked through POST /v1/answers without a userRef were all stored under one visitor reference,
-- `api`: one data subject for every such caller, so exporting or erasing it reached them all. Each is now a
-- subject of its own (answers/service.ts): every conversation still under `api` gets a reference of its own,
-- `api_` + 16 random characters, as new ones do. Audit entries never named a visitor, so nothing else moves.
-- The owner is subject to forced row-level security; lift it for this data step only.
ALTER TABLE conversations NO FORCE ROW LEVEL SECURITY;
UPDATE conversations
   SET visitor_id = 'api_' || substr(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), 1, 16)
 WHERE channel = 'api' AND visitor_id = 'api';
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
