import { describe, expect, it } from "vitest";
import { formatDateTime, utcOffsetLabel } from "./format-date-time";

const at = new Date("2026-12-01T23:31:05.123Z");

describe("formatDateTime", () => {
  it("writes UTC by default, with or without seconds", () => {
    expect(formatDateTime(at)).toBe("1 Dec 2026, 23:31 UTC");
    expect(formatDateTime(at, { withSeconds: true })).toBe("1 Dec 2026, 23:31:05 UTC");
  });

  it("writes the viewer's local time with its offset, across a date line", () => {
    expect(formatDateTime(at, { offsetMinutes: 330 })).toBe("2 Dec 2026, 05:01 UTC+5:30");
    expect(formatDateTime(at, { offsetMinutes: 60 })).toBe("2 Dec 2026, 00:31 UTC+1");
    expect(formatDateTime(new Date("2027-01-01T02:00:00Z"), { offsetMinutes: -300 })).toBe("31 Dec 2026, 21:00 UTC\u22125");
  });

  it("labels offsets in hours and minutes", () => {
    expect([0, 60, -210, 345, 840].map(utcOffsetLabel)).toEqual(["UTC", "UTC+1", "UTC\u22123:30", "UTC+5:45", "UTC+14"]);
  });
});
