-- The key service's group commit in one statement (lib/audit/group-commit.ts): advance the
-- chain heads of a batch's tenants (row locks, in chain order), read which of them are
-- revoked (a fresh snapshot, taken after the locks), then hash-chain and insert the events.
-- The chain head is held only while this runs and the commit flushes, with no round trip to
-- the application in between.
--
-- The caller computes each event's canonical JSON (lib/audit/chain.ts) except its first three
-- elements, which only the database knows: chain, seq and the time taken after the locks.
-- hash = sha256(prev_hash || '\n' || '["<chain>","<seq>","<time>",' || tail || ']'), exactly
-- hashEvent's input, so lib/audit/verify-chain.ts checks these events like any other.
-- `tail_refused` and `details_refused` are used instead when the event needs access and the
-- tenant is revoked: the event is then recorded as denied. An event's chain is its tenant id as
-- PostgreSQL prints it (or 'vendor' for none), whatever the caller sent.
CREATE FUNCTION "custody_append_audit_batch"("batch" json)
RETURNS TABLE ("ord" integer, "event_id" bigint, "event_seq" bigint, "refused" boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    e record;
    chains text[];
    counts bigint[];
    seqs bigint[];
    hashes text[];
    revoked text[];
    ch text;
    head record;
    i integer;
    occurred timestamptz(3);
    iso text;
    body text;
    h text;
    is_refused boolean;
BEGIN
    SELECT array_agg(x.chain ORDER BY x.chain), array_agg(x.n ORDER BY x.chain)
      INTO chains, counts
      FROM (SELECT coalesce(b.tenant_id::text, 'vendor') AS chain, count(*) AS n
              FROM json_to_recordset(batch) AS b(tenant_id uuid) GROUP BY 1) AS x;
    seqs := array_fill(0::bigint, ARRAY[array_length(chains, 1)]);
    hashes := array_fill(''::text, ARRAY[array_length(chains, 1)]);

    FOR head IN
        INSERT INTO audit_chains AS c (chain, seq, head_hash)
            SELECT u.chain, u.n, repeat('0', 64) FROM unnest(chains, counts) AS u(chain, n) ORDER BY u.chain
        ON CONFLICT (chain) DO UPDATE SET seq = c.seq + EXCLUDED.seq
        RETURNING c.chain, c.seq, c.head_hash
    LOOP
        i := array_position(chains, head.chain);
        seqs[i] := head.seq - counts[i];
        hashes[i] := head.head_hash;
    END LOOP;

    SELECT coalesce(array_agg(t.id::text), '{}') INTO revoked
      FROM tenants t WHERE t.id::text = ANY(chains) AND t.access_revoked_at IS NOT NULL;

    occurred := date_trunc('milliseconds', clock_timestamp());
    iso := to_char(occurred AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

    FOR e IN
        SELECT * FROM json_to_recordset(batch) AS b(
            ord integer, tenant_id uuid, actor_type text, actor_id text, actor_label text, action text,
            target_type text, target_id text, outcome text, source_ip text, user_agent text, request_id text,
            details jsonb, details_refused jsonb, tail text, tail_refused text, requires_access boolean)
        ORDER BY b.ord
    LOOP
        ch := coalesce(e.tenant_id::text, 'vendor');
        i := array_position(chains, ch);
        is_refused := e.requires_access AND ch = ANY(revoked);
        seqs[i] := seqs[i] + 1;
        body := '["' || ch || '","' || seqs[i] || '","' || iso || '",'
             || CASE WHEN is_refused THEN e.tail_refused ELSE e.tail END || ']';
        h := encode(sha256(convert_to(hashes[i] || E'\n' || body, 'UTF8')), 'hex');
        INSERT INTO audit_events (chain, seq, occurred_at, tenant_id, actor_type, actor_id, actor_label, action, target_type,
                                  target_id, outcome, source_ip, user_agent, request_id, details, prev_hash, hash)
        VALUES (ch, seqs[i], occurred, e.tenant_id, e.actor_type::actor_type, e.actor_id, e.actor_label, e.action, e.target_type,
                e.target_id, (CASE WHEN is_refused THEN 'denied' ELSE e.outcome END)::audit_outcome, e.source_ip, e.user_agent,
                e.request_id, CASE WHEN is_refused THEN e.details_refused ELSE e.details END, hashes[i], h)
        RETURNING id INTO event_id;
        hashes[i] := h;
        ord := e.ord;
        event_seq := seqs[i];
        refused := is_refused;
        RETURN NEXT;
    END LOOP;

    UPDATE audit_chains c SET head_hash = hashes[array_position(chains, c.chain)], updated_at = now()
     WHERE c.chain = ANY(chains);
END;
$$;
