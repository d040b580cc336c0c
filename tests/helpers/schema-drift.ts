import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";

// Compares what prisma/schema.prisma declares with what the migrations actually built, so a
// hand-written migration that forgets (or adds) something fails a test instead of a request.
//
// The generated client (prisma-client generator) only embeds a slim runtime data model (no
// nullability, native types, enums or indexes), so the full DMMF is taken from the Prisma
// CLI itself: `prisma generate` runs a throw-away generator that receives the DMMF over
// Prisma's generator protocol (JSON-RPC: requests on stdin, answers on stderr).

export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
export const SCHEMA_PATH = path.join(REPO_ROOT, "prisma", "schema.prisma");
const PRISMA_CLI = path.join(REPO_ROOT, "node_modules", "prisma", "build", "index.js");
const GENERATED_CLASS = path.join(REPO_ROOT, "lib", "db", "generated", "internal", "class.ts");

// ---------------------------------------------------------------------------------------
// The parts of Prisma's DMMF this checker reads.

export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object" | "unsupported";
  type: string;
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: [string, string[]] | null;
  isUpdatedAt?: boolean;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  schema?: string | null;
  fields: DmmfField[];
}

export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName?: string | null }[];
}

export interface DmmfIndex {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  dbName?: string;
  algorithm?: string;
  fields: { name: string; sortOrder?: "asc" | "desc" }[];
}

export interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

// ---------------------------------------------------------------------------------------
// Loading the DMMF.

const GENERATOR_SOURCE = `
const fs = require("node:fs");
const readline = require("node:readline");
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const request = JSON.parse(line);
  let result = null;
  if (request.method === "getManifest") result = { manifest: { prettyName: "DMMF dump", requiresEngines: [] } };
  if (request.method === "generate") fs.writeFileSync(process.env.CUSTODY_DMMF_OUT, JSON.stringify(request.params.dmmf));
  process.stderr.write(JSON.stringify({ jsonrpc: "2.0", id: request.id, result }) + "\\n");
});
`;

/** The full DMMF datamodel of a Prisma schema (by default prisma/schema.prisma). */
export async function loadDatamodel(schemaPath: string = SCHEMA_PATH): Promise<Datamodel> {
  return loadDatamodelFromSource(await readFile(schemaPath, "utf8"));
}

/** The full DMMF datamodel of schema source text. */
export async function loadDatamodelFromSource(source: string): Promise<Datamodel> {
  const dir = await mkdtemp(path.join(tmpdir(), "custody-dmmf-"));
  try {
    if (/\s|"/.test(dir)) throw new Error(`Temporary directory path unsuitable for a generator command: ${dir}`);
    const generator = path.join(dir, "dmmf-generator.cjs");
    const out = path.join(dir, "dmmf.json");
    await writeFile(generator, GENERATOR_SOURCE);
    // Our generator replaces the real ones, so nothing is written outside the temp dir.
    const schema = `${source.replace(/^[ \t]*generator\s+\w+\s*\{[^}]*\}/gm, "")}
generator dmmf {
  provider = "node ${generator}"
  output   = "${path.join(dir, "out")}"
}
`;
    const schemaFile = path.join(dir, "schema.prisma");
    await writeFile(schemaFile, schema);
    try {
      await promisify(execFile)(process.execPath, [PRISMA_CLI, "generate", "--schema", schemaFile], {
        cwd: REPO_ROOT,
        env: { ...process.env, CUSTODY_DMMF_OUT: out, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" },
        timeout: 60_000,
      });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`prisma generate could not read the schema:\n${stderr || ""}${stdout || ""}`);
    }
    return (JSON.parse(await readFile(out, "utf8")) as { datamodel: Datamodel }).datamodel;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The schema text the generated client (lib/db/generated) was generated from. */
export async function generatedClientSchema(): Promise<string> {
  const source = await readFile(GENERATED_CLASS, "utf8");
  const literal = /"inlineSchema":\s*("(?:[^"\\]|\\.)*")/.exec(source)?.[1];
  if (!literal) throw new Error(`No inlineSchema found in ${GENERATED_CLASS}; has the generator changed?`);
  return JSON.parse(literal) as string;
}

// ---------------------------------------------------------------------------------------
// What PostgreSQL columns Prisma expects.

// Prisma's PostgreSQL native types -> pg_type names (information_schema udt_name).
const NATIVE_UDT: Record<string, string> = {
  Text: "text",
  Char: "bpchar",
  VarChar: "varchar",
  Bit: "bit",
  VarBit: "varbit",
  Uuid: "uuid",
  Xml: "xml",
  Inet: "inet",
  Citext: "citext",
  Boolean: "bool",
  Integer: "int4",
  SmallInt: "int2",
  BigInt: "int8",
  Oid: "oid",
  DoublePrecision: "float8",
  Real: "float4",
  Decimal: "numeric",
  Money: "money",
  Timestamp: "timestamp",
  Timestamptz: "timestamptz",
  Date: "date",
  Time: "time",
  Timetz: "timetz",
  Json: "json",
  JsonB: "jsonb",
  ByteA: "bytea",
};

// The native type Prisma uses for a scalar without @db.*.
const DEFAULT_NATIVE: Record<string, [string, string[]]> = {
  String: ["Text", []],
  Int: ["Integer", []],
  BigInt: ["BigInt", []],
  Float: ["DoublePrecision", []],
  Decimal: ["Decimal", ["65", "30"]],
  Boolean: ["Boolean", []],
  DateTime: ["Timestamp", ["3"]],
  Json: ["JsonB", []],
  Bytes: ["ByteA", []],
};

const REFERENTIAL_ACTIONS: Record<string, string> = {
  a: "NoAction",
  r: "Restrict",
  c: "Cascade",
  n: "SetNull",
  d: "SetDefault",
};

const MAX_IDENTIFIER = 63;

// Prisma's default constraint names (ConstraintNames in prisma-engines).
function defaultIndexName(table: string, columns: string[], suffix: "_key" | "_idx" | "_fkey"): string {
  const base = `${table}_${columns.join("_")}`;
  const limit = MAX_IDENTIFIER - suffix.length;
  return `${base.length >= limit ? base.slice(0, limit) : base}${suffix}`;
}
function defaultPrimaryKeyName(table: string): string {
  return `${table.length >= MAX_IDENTIFIER - 5 ? table.slice(0, MAX_IDENTIFIER - 5) : table}_pkey`;
}

// ---------------------------------------------------------------------------------------
// What the database has.

interface DbColumn {
  table_name: string;
  column_name: string;
  udt_name: string;
  data_type: string;
  is_nullable: "YES" | "NO";
  column_default: string | null;
  is_identity: "YES" | "NO";
  character_maximum_length: number | null;
  numeric_precision: number | null;
  numeric_scale: number | null;
  datetime_precision: number | null;
}

interface DbIndex {
  table_name: string;
  index_name: string;
  is_unique: boolean;
  is_primary: boolean;
  method: string;
  is_partial: boolean;
  columns: (string | null)[];
  descending: boolean[];
}

interface DbForeignKey {
  name: string;
  table_name: string;
  referenced_table: string;
  on_delete: string;
  on_update: string;
  columns: string[];
  referenced_columns: string[];
}

async function readDatabase(client: pg.Client, schema: string) {
  // A partitioned table's partitions (audit_events' months) are its storage, not tables of
  // their own: the table itself is compared, its partitions are not.
  const notPartition = `NOT EXISTS (SELECT 1 FROM pg_class pc JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                                     WHERE pn.nspname = t.table_schema AND pc.relname = t.table_name AND pc.relispartition)`;
  const tables = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables t WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND ${notPartition}`,
    [schema],
  );
  const columns = await client.query<DbColumn>(
    `SELECT c.table_name, c.column_name, c.udt_name, c.data_type, c.is_nullable, c.column_default, c.is_identity,
            c.character_maximum_length, c.numeric_precision, c.numeric_scale, c.datetime_precision
       FROM information_schema.columns c
       JOIN information_schema.tables t
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema = $1 AND ${notPartition}`,
    [schema],
  );
  const enums = await client.query<{ name: string; labels: string[] }>(
    `SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type t
       JOIN pg_enum e ON e.enumtypid = t.oid
       JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1
      GROUP BY t.typname`,
    [schema],
  );
  const indexes = await client.query<DbIndex>(
    `SELECT t.relname::text AS table_name, i.relname::text AS index_name, x.indisunique AS is_unique,
            x.indisprimary AS is_primary, am.amname::text AS method, x.indpred IS NOT NULL AS is_partial,
            array(SELECT a.attname::text
                    FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                    LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                   WHERE k.ord <= x.indnkeyatts ORDER BY k.ord) AS columns,
            array(SELECT coalesce(pg_index_column_has_property(x.indexrelid, k.ord, 'desc'), false)
                    FROM generate_series(1, x.indnkeyatts::int) AS k(ord) ORDER BY k.ord) AS descending
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_am am ON am.oid = i.relam
      WHERE n.nspname = $1 AND t.relkind IN ('r', 'p') AND NOT t.relispartition`,
    [schema],
  );
  const foreignKeys = await client.query<DbForeignKey>(
    `SELECT c.conname::text AS name, t.relname::text AS table_name, rt.relname::text AS referenced_table,
            c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update,
            array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)
              AS referenced_columns
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
       JOIN pg_class rt ON rt.oid = c.confrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE c.contype = 'f' AND n.nspname = $1`,
    [schema],
  );
  return {
    tables: new Set(tables.rows.map((r) => r.table_name)),
    columns: columns.rows,
    enums: new Map(enums.rows.map((r) => [r.name, r.labels])),
    indexes: indexes.rows,
    foreignKeys: foreignKeys.rows,
  };
}

// ---------------------------------------------------------------------------------------
// The comparison.

export interface DriftOptions {
  /** PostgreSQL schema to inspect; default "public". */
  schema?: string;
  /** Tables that belong to no model on purpose; _prisma_migrations is always ignored. */
  ignoreTables?: string[];
  /** Indexes created by SQL only on purpose (e.g. partial or GIN indexes Prisma cannot express). */
  ignoreIndexes?: string[];
}

/**
 * Every difference between the datamodel and the database, one readable line each; an empty
 * list means Prisma's view of the database matches the database.
 */
export async function findSchemaDrift(
  databaseUrl: string,
  datamodel: Datamodel,
  options: DriftOptions = {},
): Promise<string[]> {
  const schema = options.schema ?? "public";
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let db;
  try {
    db = await readDatabase(client, schema);
  } finally {
    await client.end();
  }

  const problems: string[] = [];
  const ignoredTables = new Set(["_prisma_migrations", ...(options.ignoreTables ?? [])]);
  const ignoredIndexes = new Set(options.ignoreIndexes ?? []);
  const modelsByName = new Map(datamodel.models.map((m) => [m.name, m]));
  const enumsByName = new Map(datamodel.enums.map((e) => [e.name, e]));
  const tableOf = (model: DmmfModel) => model.dbName ?? model.name;
  const columnOf = (field: DmmfField) => field.dbName ?? field.name;
  const enumTypeOf = (name: string) => enumsByName.get(name)?.dbName ?? name;

  // Enums: same type names and labels.
  const expectedEnums = new Set<string>();
  for (const enumDef of datamodel.enums) {
    const typeName = enumDef.dbName ?? enumDef.name;
    expectedEnums.add(typeName);
    const labels = db.enums.get(typeName);
    if (!labels) {
      problems.push(`enum ${enumDef.name}: type "${typeName}" is missing`);
      continue;
    }
    const expected = enumDef.values.map((v) => v.dbName ?? v.name);
    const missing = expected.filter((label) => !labels.includes(label));
    const extra = labels.filter((label) => !expected.includes(label));
    if (missing.length) problems.push(`enum ${enumDef.name}: "${typeName}" lacks ${missing.map((l) => `'${l}'`).join(", ")}`);
    if (extra.length) problems.push(`enum ${enumDef.name}: "${typeName}" has ${extra.map((l) => `'${l}'`).join(", ")} that the schema lacks`);
  }
  for (const typeName of db.enums.keys()) {
    if (!expectedEnums.has(typeName)) problems.push(`enum type "${typeName}" exists in the database but not in the schema`);
  }

  // Tables and columns.
  const expectedTables = new Set<string>();
  for (const model of datamodel.models) {
    if ((model.schema ?? schema) !== schema) continue;
    const table = tableOf(model);
    expectedTables.add(table);
    if (!db.tables.has(table)) {
      problems.push(`model ${model.name}: table "${table}" is missing`);
      continue;
    }
    const dbColumns = new Map(db.columns.filter((c) => c.table_name === table).map((c) => [c.column_name, c]));
    const expectedColumns = new Set<string>();

    for (const field of model.fields) {
      if (field.kind === "object") continue;
      const name = columnOf(field);
      expectedColumns.add(name);
      const where = `${model.name}.${field.name} ("${table}"."${name}")`;
      const column = dbColumns.get(name);
      if (!column) {
        problems.push(`${where}: column is missing`);
        continue;
      }
      problems.push(...compareType(where, field, column, enumTypeOf));

      // Prisma creates list columns without NOT NULL; a hand-written migration may make a list
      // NOT NULL (stricter: a write that leaves it out then fails). Every other required field
      // is NOT NULL, every optional one nullable.
      const shouldBeNullable = !field.isList && !field.isRequired;
      if (!(field.isList && column.is_nullable === "NO") && shouldBeNullable !== (column.is_nullable === "YES")) {
        problems.push(
          `${where}: ${column.is_nullable === "YES" ? "nullable" : "NOT NULL"} in the database, ` +
            `${field.isRequired ? "required" : "optional"} in the schema`,
        );
      }
      const defaultProblem = compareDefault(field, column);
      if (defaultProblem) problems.push(`${where}: ${defaultProblem}`);
    }
    for (const name of dbColumns.keys()) {
      if (!expectedColumns.has(name)) {
        problems.push(`"${table}"."${name}": column exists in the database but not in model ${model.name}`);
      }
    }
  }
  for (const table of db.tables) {
    if (!expectedTables.has(table) && !ignoredTables.has(table)) {
      problems.push(`table "${table}" exists in the database but no model maps to it`);
    }
  }

  // Primary keys, unique constraints and indexes.
  const matchedIndexes = new Set<string>();
  for (const index of datamodel.indexes) {
    const model = modelsByName.get(index.model);
    if (!model || !db.tables.has(tableOf(model)) || index.type === "fulltext") continue;
    const table = tableOf(model);
    const fieldsByName = new Map(model.fields.map((f) => [f.name, f]));
    const columns = index.fields.map((f) => {
      const field = fieldsByName.get(f.name);
      return field ? columnOf(field) : f.name;
    });
    const descending = index.fields.map((f) => f.sortOrder === "desc");
    const name =
      index.dbName ??
      (index.type === "id"
        ? defaultPrimaryKeyName(table)
        : defaultIndexName(table, columns, index.type === "unique" ? "_key" : "_idx"));
    const kind = index.type === "id" ? "primary key" : index.type === "unique" ? "unique index" : "index";
    const declared = `${model.name}: ${kind} "${name}" on "${table}"(${columns.join(", ")})`;

    const candidates = db.indexes.filter((i) => i.table_name === table);
    const sameShape = (i: DbIndex) =>
      sameList(i.columns, columns) &&
      i.is_unique === (index.type !== "normal") &&
      i.is_primary === (index.type === "id") &&
      !i.is_partial;
    const found = candidates.find((i) => i.index_name === name) ?? candidates.find(sameShape);
    if (!found) {
      problems.push(`${declared} is missing`);
      continue;
    }
    matchedIndexes.add(`${table}.${found.index_name}`);
    if (found.index_name !== name) problems.push(`${declared} exists as "${found.index_name}" (Prisma would rename it)`);
    if (!sameShape(found)) {
      const actual = `${found.is_primary ? "primary key" : found.is_unique ? "unique index" : "index"}${found.is_partial ? " (partial)" : ""}`;
      problems.push(`${declared} is a ${actual} on (${found.columns.join(", ")}) in the database`);
    } else if (!sameList(found.descending, descending)) {
      problems.push(`${declared} has different sort orders (ASC/DESC) in the database`);
    }
    const method = (index.algorithm ?? "BTree").toLowerCase();
    if (found.method !== method) problems.push(`${declared} uses ${found.method} in the database, ${method} in the schema`);
  }
  for (const index of db.indexes) {
    const table = index.table_name;
    if (ignoredTables.has(table) || !expectedTables.has(table)) continue;
    if (!matchedIndexes.has(`${table}.${index.index_name}`) && !ignoredIndexes.has(index.index_name)) {
      problems.push(
        `${index.is_primary ? "primary key" : index.is_unique ? "unique index" : "index"} "${index.index_name}" on ` +
          `"${table}"(${index.columns.join(", ")}) exists in the database but not in the schema`,
      );
    }
  }

  // Foreign keys, matched by columns (Prisma's DMMF does not carry their names).
  const matchedForeignKeys = new Set<string>();
  for (const model of datamodel.models) {
    const table = tableOf(model);
    if (!db.tables.has(table)) continue;
    const fieldsByName = new Map(model.fields.map((f) => [f.name, f]));
    for (const relation of model.fields) {
      if (relation.kind !== "object" || !relation.relationFromFields?.length) continue;
      const target = modelsByName.get(relation.type);
      if (!target) continue;
      const fromFields = relation.relationFromFields.map((n) => fieldsByName.get(n));
      const columns = fromFields.map((f, i) => (f ? columnOf(f) : relation.relationFromFields![i]!));
      const targetFields = new Map(target.fields.map((f) => [f.name, f]));
      const referenced = (relation.relationToFields ?? []).map((n) => {
        const f = targetFields.get(n);
        return f ? columnOf(f) : n;
      });
      // Prisma's defaults: Restrict when the relation is required, SetNull when optional.
      const onDelete =
        relation.relationOnDelete ?? (fromFields.every((f) => f?.isRequired) ? "Restrict" : "SetNull");
      const onUpdate = relation.relationOnUpdate ?? "Cascade";
      const declared = `${model.name}.${relation.name}: foreign key "${table}"(${columns.join(", ")}) -> "${tableOf(target)}"(${referenced.join(", ")})`;

      const found = db.foreignKeys.find((fk) => fk.table_name === table && sameList(fk.columns, columns));
      if (!found) {
        problems.push(`${declared} is missing`);
        continue;
      }
      matchedForeignKeys.add(`${table}.${found.name}`);
      if (found.referenced_table !== tableOf(target) || !sameList(found.referenced_columns, referenced)) {
        problems.push(`${declared} references "${found.referenced_table}"(${found.referenced_columns.join(", ")}) in the database`);
      }
      const dbOnDelete = REFERENTIAL_ACTIONS[found.on_delete] ?? found.on_delete;
      const dbOnUpdate = REFERENTIAL_ACTIONS[found.on_update] ?? found.on_update;
      if (dbOnDelete !== onDelete) problems.push(`${declared} is ON DELETE ${dbOnDelete} in the database, ${onDelete} in the schema`);
      if (dbOnUpdate !== onUpdate) problems.push(`${declared} is ON UPDATE ${dbOnUpdate} in the database, ${onUpdate} in the schema`);
    }
  }
  for (const fk of db.foreignKeys) {
    if (ignoredTables.has(fk.table_name) || !expectedTables.has(fk.table_name)) continue;
    if (!matchedForeignKeys.has(`${fk.table_name}.${fk.name}`)) {
      problems.push(
        `foreign key "${fk.name}" "${fk.table_name}"(${fk.columns.join(", ")}) -> "${fk.referenced_table}" ` +
          `exists in the database but not in the schema`,
      );
    }
  }

  return problems;
}

function compareType(
  where: string,
  field: DmmfField,
  column: DbColumn,
  enumTypeOf: (name: string) => string,
): string[] {
  const actual = describeColumnType(column);
  if (field.kind === "enum") {
    const udt = enumTypeOf(field.type);
    const expected = field.isList ? `_${udt}` : udt;
    return column.udt_name === expected ? [] : [`${where}: is ${actual} in the database, enum ${udt}${field.isList ? "[]" : ""} in the schema`];
  }
  if (field.kind !== "scalar") return [];

  const [native, args] = field.nativeType ?? DEFAULT_NATIVE[field.type] ?? [field.type, []];
  const udt = NATIVE_UDT[native];
  if (!udt) return [`${where}: the checker does not know Prisma type ${field.type} @db.${native}; extend NATIVE_UDT`];
  const expectedText = `${field.type} @db.${native}${args.length ? `(${args.join(", ")})` : ""}${field.isList ? "[]" : ""}`;
  const mismatch = [`${where}: is ${actual} in the database, ${expectedText} in the schema`];

  if (column.udt_name !== (field.isList ? `_${udt}` : udt)) return mismatch;
  if (field.isList) return []; // information_schema reports no length/precision for array elements.

  const arg = (i: number) => (args[i] === undefined ? undefined : Number(args[i]));
  switch (native) {
    case "Char":
    case "VarChar":
    case "Bit":
    case "VarBit":
      if (arg(0) !== undefined && column.character_maximum_length !== arg(0)) return mismatch;
      if (arg(0) === undefined && native === "VarChar" && column.character_maximum_length !== null) return mismatch;
      break;
    case "Timestamp":
    case "Timestamptz":
    case "Time":
    case "Timetz":
      if (column.datetime_precision !== (arg(0) ?? 6)) return mismatch;
      break;
    case "Decimal":
      if (arg(0) !== undefined && (column.numeric_precision !== arg(0) || column.numeric_scale !== (arg(1) ?? 0))) return mismatch;
      break;
  }
  return [];
}

function describeColumnType(column: DbColumn): string {
  const base = column.data_type === "USER-DEFINED" ? column.udt_name : column.data_type;
  if (column.character_maximum_length !== null) return `${base}(${column.character_maximum_length})`;
  if (column.data_type.startsWith("time") && column.datetime_precision !== null) {
    return `${base} (precision ${column.datetime_precision})`;
  }
  if (column.data_type === "numeric" && column.numeric_precision !== null) {
    return `numeric(${column.numeric_precision}, ${column.numeric_scale})`;
  }
  return column.data_type === "ARRAY" ? `${column.udt_name.slice(1)}[]` : base;
}

// Default values: whether the database has one, and of the right kind. uuid()/cuid() and
// @updatedAt are filled in by the client, so Prisma's migrations give those columns none.
function compareDefault(field: DmmfField, column: DbColumn): string | null {
  const actual = column.column_default;
  const spec = field.default as { name?: string; args?: unknown[] } | unknown;
  const fn = spec && typeof spec === "object" && !Array.isArray(spec) && "name" in spec ? (spec as { name: string }).name : null;

  if (!field.hasDefaultValue) {
    return actual === null && column.is_identity === "NO" ? null : `has DEFAULT ${actual ?? "(identity)"} in the database, no @default in the schema`;
  }
  switch (fn) {
    case "autoincrement":
      return column.is_identity === "YES" || /^nextval\(/i.test(actual ?? "")
        ? null
        : `is not auto-incrementing in the database (${actual ? `DEFAULT ${actual}` : "no default"}), @default(autoincrement()) in the schema`;
    case "now":
      return /^(CURRENT_TIMESTAMP|now\(\))/i.test(actual ?? "")
        ? null
        : `has ${actual ? `DEFAULT ${actual}` : "no default"} in the database, @default(now()) in the schema`;
    case "uuid":
    case "cuid":
    case "nanoid":
    case "ulid":
      return actual === null ? null : `has DEFAULT ${actual} in the database, @default(${fn}()) (set by the client) in the schema`;
    default:
      // Literals and dbgenerated(): the database must supply a default.
      return actual === null ? `has no default in the database, @default(...) in the schema` : null;
  }
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
