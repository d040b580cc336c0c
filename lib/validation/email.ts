import { z } from "zod";
import { TEXT_LIMITS, tooLongMessage } from "./limits";

/** Emails are compared and stored lower-cased and trimmed. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const emailSchema = z
  .string({ message: "Enter an email address." })
  .trim()
  .min(1, "Enter an email address.")
  .max(TEXT_LIMITS.email, tooLongMessage(TEXT_LIMITS.email))
  .email("Enter a valid email address, like name@company.com.")
  .transform(normalizeEmail);
