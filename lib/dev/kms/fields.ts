import type { EncryptionContext } from "./crypto";
import { serialization, validation } from "./errors";

// Typed access to a request's JSON members with KMS's validation: a member of the wrong JSON
// type is a SerializationException (the request could not be deserialised), a member that
// breaks a modelled constraint (required, length, range, pattern, enum) is a
// ValidationException worded like AWS's. JSON null counts as absent, as in AWS's protocol.

type LengthRule = { min?: number; max?: number };
type StringRule = LengthRule & { pattern?: RegExp };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class Fields {
  constructor(
    private readonly body: Readonly<Record<string, unknown>>,
    private readonly path = "",
  ) {}

  private at(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  private raw(name: string): unknown {
    const value = Object.hasOwn(this.body, name) ? this.body[name] : undefined;
    return value === null ? undefined : value;
  }

  string(name: string, rule: StringRule = {}): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw serialization(`Expected a string for ${this.at(name)}`);
    checkLength(this.at(name), value, value.length, rule);
    if (rule.pattern && !rule.pattern.test(value)) {
      throw validation(this.at(name), value, `Member must satisfy regular expression pattern: ${rule.pattern.source}`);
    }
    return value;
  }

  requiredString(name: string, rule: StringRule = {}): string {
    return required(this.at(name), this.string(name, rule));
  }

  integer(name: string, range: { min: number; max: number }): number | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value)) throw serialization(`Expected an integer for ${this.at(name)}`);
    if (value < range.min) throw validation(this.at(name), value, `Member must have value greater than or equal to ${range.min}`);
    if (value > range.max) throw validation(this.at(name), value, `Member must have value less than or equal to ${range.max}`);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") throw serialization(`Expected a boolean for ${this.at(name)}`);
    return value;
  }

  /** A base64 blob member, decoded. */
  blob(name: string, rule: LengthRule): Buffer | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== "string" || !BASE64.test(value)) throw serialization(`Expected base64 data for ${this.at(name)}`);
    const bytes = Buffer.from(value, "base64");
    checkLength(this.at(name), bytes, bytes.length, rule);
    return bytes;
  }

  requiredBlob(name: string, rule: LengthRule): Buffer {
    return required(this.at(name), this.blob(name, rule));
  }

  /** A string-to-string map such as EncryptionContext; an empty map is the same as none. */
  context(name: string): EncryptionContext | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw serialization(`Expected a map for ${this.at(name)}`);
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [key, item] of entries) {
      if (typeof item !== "string") throw serialization(`Expected a string value for ${this.at(name)}.${key}`);
    }
    return entries.length === 0 ? undefined : Object.freeze(Object.fromEntries(entries) as Record<string, string>);
  }

  stringList(name: string, rule: { maxItems: number; item: StringRule }): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw serialization(`Expected a list of strings for ${this.at(name)}`);
    if (value.length > rule.maxItems) throw validation(this.at(name), value, `Member must have length less than or equal to ${rule.maxItems}`);
    for (const item of value as string[]) checkLength(this.at(name), item, item.length, rule.item);
    return value as string[];
  }

  enumValue<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw validation(this.at(name), value, `Member must satisfy enum value set: [${allowed.join(", ")}]`);
    }
    return value as T;
  }

  enumList<T extends string>(name: string, allowed: readonly T[]): T[] | undefined {
    const value = this.stringList(name, { maxItems: allowed.length, item: {} });
    if (value === undefined) return undefined;
    if (!value.every((v) => (allowed as readonly string[]).includes(v))) {
      throw validation(this.at(name), value, `Member must satisfy constraint: [Member must satisfy enum value set: [${allowed.join(", ")}]]`);
    }
    return value as T[];
  }

  object(name: string): Fields | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw serialization(`Expected an object for ${this.at(name)}`);
    return new Fields(value as Record<string, unknown>, this.at(name));
  }

  objectList(name: string): Fields[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((v) => typeof v === "object" && v !== null && !Array.isArray(v))) {
      throw serialization(`Expected a list of objects for ${this.at(name)}`);
    }
    return value.map((item, i) => new Fields(item as Record<string, unknown>, `${this.at(name)}.${i + 1}.member`));
  }
}

function required<T>(field: string, value: T | undefined): T {
  if (value === undefined) throw validation(field, undefined, "Member must not be null");
  return value;
}

function checkLength(field: string, value: unknown, length: number, rule: LengthRule): void {
  if (rule.min !== undefined && length < rule.min) {
    throw validation(field, value, `Member must have length greater than or equal to ${rule.min}`);
  }
  if (rule.max !== undefined && length > rule.max) {
    throw validation(field, value, `Member must have length less than or equal to ${rule.max}`);
  }
}
