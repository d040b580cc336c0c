-- Session tokens are stored as the hex SHA-256 of the cookie's value (lib/db/session-token.ts).
-- Sessions created before this migration keep working: their stored tokens are hashed in place.
UPDATE "sessions" SET "session_token" = encode(sha256(convert_to("session_token", 'UTF8')), 'hex');
