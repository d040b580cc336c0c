-- Log sinks: fair claims (lib/sinks/worker.ts). The worker claims the due batch of the sink
-- whose last claim is oldest (never claimed first), so every sink with due work gets a turn
-- before any sink gets a second one: a backlogged sink's old batches no longer go ahead of
-- every other sink's new ones. Set in the claim's transaction; microseconds, so consecutive
-- claims never tie.
ALTER TABLE "log_sinks" ADD COLUMN "last_claimed_at" TIMESTAMPTZ(6);
