import { describe, expect, expectTypeOf, it } from "vitest";
import {
  ACTION_LABELS,
  actionLabel,
  AUDIT_ACTION_LIST,
  AUDIT_ACTIONS,
  AUDIT_CATALOGUE,
  type AuditAction,
  isAuditAction,
  KEY_SERVICE_ACTIONS,
  type KeyServiceAction,
  USAGE_CHART_ROLES,
} from "./catalogue";
import { BATCH_ACTIONS } from "./usage/key-actions";

describe("the audit catalogue", () => {
  it("declares each action once, with a label of its own", () => {
    expect(new Set(AUDIT_ACTION_LIST).size).toBe(AUDIT_ACTION_LIST.length);
    expect(new Set(Object.values(ACTION_LABELS)).size).toBe(AUDIT_ACTION_LIST.length);
    expect(AUDIT_ACTIONS.keyWrap).toBe("key.wrap");
    expect(ACTION_LABELS["audit.exported"]).toBe("Trail exported");
  });

  it("types every map by the action union", () => {
    expectTypeOf<(typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS]>().toEqualTypeOf<AuditAction>();
    expectTypeOf(ACTION_LABELS).toEqualTypeOf<Readonly<Record<AuditAction, string>>>();
    expectTypeOf<KeyServiceAction>().toEqualTypeOf<"key.wrap" | "key.unwrap" | "key.batch_wrap" | "key.batch_unwrap" | "key.rekey" | "key.batch_rekey">();
  });

  it("labels an action no longer in the catalogue (an older trail's) as it is stored", () => {
    expect(actionLabel("key.unwrap")).toBe("Data key unwrapped");
    expect(actionLabel("legacy.thing")).toBe("legacy.thing");
    expect(isAuditAction("toString")).toBe(false);
  });

  it("gives the usage charts a series for each key operation, in the catalogue's order", () => {
    expect(KEY_SERVICE_ACTIONS).toEqual(["key.wrap", "key.unwrap", "key.batch_wrap", "key.batch_unwrap", "key.rekey", "key.batch_rekey"]);
    expect(BATCH_ACTIONS).toEqual(["key.batch_wrap", "key.batch_unwrap", "key.batch_rekey"]);
    for (const action of KEY_SERVICE_ACTIONS) expect(USAGE_CHART_ROLES[action].color).toMatch(/^#[0-9A-F]{6}$/);
    expect(new Set(KEY_SERVICE_ACTIONS.map((a) => USAGE_CHART_ROLES[a].color)).size).toBe(KEY_SERVICE_ACTIONS.length);
    expect(Object.values(AUDIT_CATALOGUE).filter((d) => "usage" in d)).toHaveLength(KEY_SERVICE_ACTIONS.length);
  });
});
