import { z } from "zod";

// Value types the settings share (lib/config's schema and each KMS provider's fragment).

export const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

export const port = z.coerce
  .number({ message: "must be a port number" })
  .int("must be a whole number")
  .min(1, "must be between 1 and 65535")
  .max(65535, "must be between 1 and 65535");

export const seconds = (min: number, max: number) =>
  z.coerce
    .number({ message: "must be a number of seconds" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const httpUrl = z
  .string()
  .url("must be a URL such as https://idp.example.com")
  .refine((v) => /^https?:\/\//.test(v), "must start with http:// or https://")
  .transform((v) => v.replace(/\/+$/, ""));

export const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v), "must be a postgresql://user:password@host:port/database URL");
