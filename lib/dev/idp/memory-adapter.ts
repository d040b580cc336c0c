// The dev IdP's storage: a small in-memory adapter (oidc-provider's own one warns that it is
// for quick starts only; this one is the same idea, owned here and scoped to one IdP instance).

type Stored = { payload: Record<string, unknown>; expiresAt: number };

export function memoryAdapterFactory() {
  const store = new Map<string, Stored>();
  let writes = 0;
  const now = () => Date.now();
  const live = (key: string) => {
    const stored = store.get(key);
    if (stored && stored.expiresAt <= now()) {
      store.delete(key);
      return undefined;
    }
    return stored;
  };
  const sweep = () => {
    const t = now();
    for (const [key, stored] of store) if (stored.expiresAt <= t) store.delete(key);
  };

  return (model: string) => {
    const key = (id: string) => `${model}:${id}`;
    const findWhere = (field: string, value: string) => {
      for (const [k, stored] of store) {
        if (k.startsWith(`${model}:`) && stored.payload[field] === value && live(k)) return stored.payload;
      }
      return undefined;
    };
    return {
      async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
        if (++writes % 200 === 0) sweep();
        // A little longer than the artifact itself: oidc-provider checks expiry on its own.
        const expiresAt = typeof expiresIn === "number" ? now() + (expiresIn + 15) * 1000 : Number.POSITIVE_INFINITY;
        store.set(key(id), { payload, expiresAt });
      },
      async find(id: string) {
        return live(key(id))?.payload;
      },
      async findByUid(uid: string) {
        return findWhere("uid", uid);
      },
      async findByUserCode(userCode: string) {
        return findWhere("userCode", userCode);
      },
      async consume(id: string) {
        const stored = live(key(id));
        if (stored) stored.payload.consumed = Math.floor(now() / 1000);
      },
      async destroy(id: string) {
        store.delete(key(id));
      },
      async revokeByGrantId(grantId: string) {
        for (const [k, stored] of store) {
          if (k.startsWith(`${model}:`) && stored.payload.grantId === grantId) store.delete(k);
        }
      },
    };
  };
}
