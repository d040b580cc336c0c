-- The group commit also decides, exactly, whether the service credential behind each use is
-- still active (issue 13). Until now a revoked credential stayed usable on an instance until
-- the revocation's NOTIFY reached it.
--
-- An event may now name the credential it is a use of (`credential_id`); the batch's distinct
-- credential ids also come as the second argument, so finding them does not parse the batch
-- once more. Before any chain head, the batch locks those credentials' rows FOR KEY SHARE, in
-- id order, and reads them. A
-- revocation (lib/credentials) locks the credential's row FOR UPDATE before it appends to any
-- chain, so the two are ordered on that row and take their locks in the same order (credential,
-- then chain heads: no deadlock): either the batch commits first, and its uses were made while
-- the credential was active, or the revocation does, and the batch sees it (READ COMMITTED
-- re-reads the row it waited for). FOR KEY SHARE does not conflict with the last-used UPDATE.
-- One indexed read per batch, whatever its size (none when the batch holds no use).
--
-- A use whose credential is revoked (or gone) is not written: it is returned with
-- `credential_revoked` and no id, and the caller records the refusal as its own event. Seqs
-- are allocated for the written events only, so the chains have no gaps.
--
-- Everything else is 20261129040000's function unchanged.
DROP FUNCTION "custody_append_audit_batch"(json);

CREATE FUNCTION "custody_append_audit_batch"("batch" json, "credentials" uuid[])
RETURNS TABLE ("ord" integer, "event_id" bigint, "event_seq" bigint, "refused" boolean, "credential_revoked" boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    e record;
    chains text[];
    counts bigint[];
    seqs bigint[];
    hashes text[];
    revoked text[] := '{}';
    active_credentials text[];
    ch text;
    head record;
    i integer;
    occurred timestamptz(3);
    iso text;
    body text;
    h text;
    is_refused boolean;
BEGIN
    SELECT coalesce(array_agg(c.id), '{}') INTO active_credentials
      FROM (SELECT s.id::text AS id, s.revoked_at FROM service_credentials s
             WHERE s.id = ANY(credentials)
             ORDER BY s.id FOR KEY SHARE OF s) AS c
     WHERE c.revoked_at IS NULL;

    SELECT array_agg(x.chain ORDER BY x.chain), array_agg(x.n ORDER BY x.chain)
      INTO chains, counts
      FROM (SELECT coalesce(b.tenant_id::text, 'vendor') AS chain, count(*) AS n
              FROM json_to_recordset(batch) AS b(tenant_id uuid, credential_id uuid)
             WHERE b.credential_id IS NULL OR b.credential_id::text = ANY(active_credentials)
             GROUP BY 1) AS x;

    IF chains IS NOT NULL THEN
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
    END IF;

    occurred := date_trunc('milliseconds', clock_timestamp());
    iso := to_char(occurred AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

    FOR e IN
        SELECT * FROM json_to_recordset(batch) AS b(
            ord integer, tenant_id uuid, actor_type text, actor_id text, actor_label text, action text,
            target_type text, target_id text, outcome text, source_ip text, user_agent text, request_id text,
            details jsonb, details_refused jsonb, tail text, tail_refused text, requires_access boolean, credential_id uuid)
        ORDER BY b.ord
    LOOP
        ord := e.ord;
        IF e.credential_id IS NOT NULL AND NOT (e.credential_id::text = ANY(active_credentials)) THEN
            event_id := NULL;
            event_seq := NULL;
            refused := false;
            credential_revoked := true;
            RETURN NEXT;
            CONTINUE;
        END IF;
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
        event_seq := seqs[i];
        refused := is_refused;
        credential_revoked := false;
        RETURN NEXT;
    END LOOP;

    IF chains IS NOT NULL THEN
        UPDATE audit_chains c SET head_hash = hashes[array_position(chains, c.chain)], updated_at = now()
         WHERE c.chain = ANY(chains);
    END IF;
END;
$$;
