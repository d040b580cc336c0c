import * as React from "react";

import { cn } from "@/lib/utils/cn";
import { Label } from "@/components/ui/label";

export type FormFieldProps = {
  /** Visible label text. */
  label: React.ReactNode;
  /** The `id` of the control inside; the label points at it and the hint/error ids derive from it. */
  htmlFor: string;
  /** Error message; when present it is shown in red with `role="alert"`. */
  error?: React.ReactNode;
  /** Helper text under the control (hidden while an error is shown). */
  hint?: React.ReactNode;
  className?: string;
  children: React.ReactNode;
};

/** Ids FormField gives its hint and error text, for the control's `aria-describedby`. */
export function formFieldIds(htmlFor: string): { hintId: string; errorId: string } {
  return { hintId: `${htmlFor}-hint`, errorId: `${htmlFor}-error` };
}

/**
 * Label + control + hint/error. The single element child (Input, NativeSelect, textarea…)
 * gets `aria-describedby` and, when there is an error, `aria-invalid` added automatically
 * unless it already sets them.
 */
export function FormField({ label, htmlFor, error, hint, className, children }: FormFieldProps) {
  const { hintId, errorId } = formFieldIds(htmlFor);
  const hasError = error !== undefined && error !== null && error !== false && error !== "";
  const hasHint = !hasError && hint !== undefined && hint !== null && hint !== false && hint !== "";
  const describedBy = hasError ? errorId : hasHint ? hintId : undefined;

  let control: React.ReactNode = children;
  if (React.isValidElement<Record<string, unknown>>(children) && describedBy !== undefined) {
    const childProps = children.props;
    const existing =
      typeof childProps["aria-describedby"] === "string" ? childProps["aria-describedby"] : "";
    control = React.cloneElement(children, {
      "aria-describedby": [existing, describedBy].filter(Boolean).join(" "),
      ...(hasError && childProps["aria-invalid"] === undefined ? { "aria-invalid": true } : {}),
    });
  }

  return (
    <div data-slot="form-field" className={cn("grid content-start gap-1.5", className)}>
      <Label htmlFor={htmlFor}>{label}</Label>
      {control}
      {hasError ? (
        <p id={errorId} role="alert" className="text-xs font-medium text-destructive">
          {error}
        </p>
      ) : hasHint ? (
        <p id={hintId} className="text-xs text-muted-foreground">
          {hint}
        </p>
      ) : null}
    </div>
  );
}
