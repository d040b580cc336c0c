import fs from "node:fs";
import path from "node:path";
import type { CryptoKey, KeyRing, VersionState } from "./model";

// The development Cloud KMS's resources on disk (demo mode), so keys and the tenant keys they
// wrap outlive a restart: one JSON file, replaced atomically after each change. Key material
// is stored as it is held (base64): this server is for development only, on loopback.

type StoredVersion = { id: number; state: VersionState; material: string | null; createTime: string; destroyTime: string | null };
type StoredKey = Omit<CryptoKey, "tag" | "createTime" | "versions"> & { tag: string; createTime: string; versions: StoredVersion[] };
type StoredState = { keyRings: Array<{ name: string; createTime: string }>; keys: StoredKey[] };

export type Resources = { keyRings: Map<string, KeyRing>; keys: Map<string, CryptoKey> };

const FILE = "store.json";

export function saveResources(dir: string, resources: Resources): void {
  const state: StoredState = {
    keyRings: [...resources.keyRings.values()].map((r) => ({ name: r.name, createTime: r.createTime.toISOString() })),
    keys: [...resources.keys.values()].map((k) => ({
      ...k,
      tag: k.tag.toString("base64"),
      createTime: k.createTime.toISOString(),
      versions: [...k.versions.values()].map((v) => ({
        ...v,
        material: v.material?.toString("base64") ?? null,
        createTime: v.createTime.toISOString(),
        destroyTime: v.destroyTime?.toISOString() ?? null,
      })),
    })),
  };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

export function loadResources(dir: string): Resources {
  const resources: Resources = { keyRings: new Map(), keys: new Map() };
  const file = path.join(dir, FILE);
  if (!fs.existsSync(file)) return resources;
  const state = JSON.parse(fs.readFileSync(file, "utf8")) as StoredState;
  for (const ring of state.keyRings) resources.keyRings.set(ring.name, { name: ring.name, createTime: new Date(ring.createTime) });
  for (const key of state.keys) {
    const versions = key.versions.map((v) => ({
      ...v,
      material: v.material === null ? null : Buffer.from(v.material, "base64"),
      createTime: new Date(v.createTime),
      destroyTime: v.destroyTime === null ? null : new Date(v.destroyTime),
    }));
    resources.keys.set(key.name, { ...key, tag: Buffer.from(key.tag, "base64"), createTime: new Date(key.createTime), versions: new Map(versions.map((v) => [v.id, v])) });
  }
  return resources;
}
