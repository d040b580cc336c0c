import fc from "fast-check";

// Shared parts of the hostile-input suites (tests/integration/hostile-input-*.test.ts): the
// seed and run count of each property, and arbitraries for what an attacker sends.
//
// Every property prints its seed; HOSTILE_INPUT_SEED re-runs one exactly (with the failing
// path fast-check prints, HOSTILE_INPUT_PATH). HOSTILE_INPUT_RUNS raises the number of cases
// (never below 1,000 per endpoint).

const MIN_RUNS = 1000;

export type FuzzParameters = { seed: number; numRuns: number; path?: string; endOnFailure: true };

/** The parameters of one property run, printed so that a failure can be re-run. */
export function fuzzParameters(name: string): FuzzParameters {
  const fixed = process.env.HOSTILE_INPUT_SEED;
  const seed = fixed ? Number(fixed) : Math.floor(Math.random() * 2 ** 31);
  const numRuns = Math.max(MIN_RUNS, Number(process.env.HOSTILE_INPUT_RUNS ?? MIN_RUNS) || MIN_RUNS);
  const path = process.env.HOSTILE_INPUT_PATH || undefined;
  console.log(`hostile input ${name}: ${numRuns} cases, seed ${seed} (re-run: HOSTILE_INPUT_SEED=${seed})`);
  return { seed, numRuns, path, endOnFailure: true };
}

/** Strings known to break filters, parsers and displays. */
const NASTY = [
  "",
  " ",
  "invo\u200bices",
  "\u202eexe.pdf",
  "\u200e",
  "\u200f",
  "\u061c",
  "\ufeff",
  "\u0000",
  "\u0007",
  "\r\n",
  "\u2028",
  "\ud800",
  "\udfff",
  "a\ud83d",
  "' OR '1'='1' --",
  "'; DROP TABLE tenants; --",
  "<script>alert(1)</script>",
  "${jndi:ldap://127.0.0.1/x}",
  "{{7*7}}",
  "../../etc/passwd",
  "%00",
  "%ZZ",
  "__proto__",
  "constructor",
  "prototype",
  "null",
  "NaN",
  "-0",
  "1e309",
  "😀".repeat(65),
  "x".repeat(129),
  "x".repeat(257),
  "x".repeat(513),
  "x".repeat(2049),
];

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ unit: codeUnit, maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
);

/** Anything JSON can carry, biased to hostile strings. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
);

/** A known-good value most of the time (five in six), a hostile one otherwise: most requests are one or two changes away from valid. */
export function mostly<T>(good: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> {
  return fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: hostileValue });
}

/** Adds zero to two extra keys (hostile names and values) to an object. */
export function withExtraKeys<T extends object>(object: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc
    .tuple(object, fc.oneof({ weight: 9, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(hostileString, hostileValue, { maxKeys: 2 }) }))
    .map(([base, extra]) => ({ ...extra, ...base }));
}

/** Every byte of the string's UTF-8 percent-encoded, bar letters, digits and `=&` (lone surrogates as U+FFFD). */
function percentEncoded(s: string): string {
  return [...Buffer.from(s, "utf8")].map((b) => (/[A-Za-z0-9=&]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, "0")}`)).join("");
}

/** A query string: none, a hostile one encoded, or one that breaks decoders. */
export const hostileQuery: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constant("") },
  { weight: 2, arbitrary: hostileString.map((s) => `?${percentEncoded(s)}`) },
  { weight: 1, arbitrary: fc.constantFrom("?%ZZ", "?__proto__[admin]=1", "?constructor.prototype.x=1", "?a=1&a=2", "??", "?=", "?%00", "?x=%E0%A4%A", "?&&&") },
);

/** A header value fetch can send (visible ASCII), hostile otherwise. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("Bearer", "Bearer ", "bearer csk_", "Basic YWRtaW46YWRtaW4=", "Bearer csk_00000000-0000-0000-0000-000000000000_x", "Bearer ' OR 1=1", `Bearer ${"A".repeat(4096)}`),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 120 }).map((s) => `Bearer ${s}`),
);
