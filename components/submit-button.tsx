"use client";

import * as React from "react";
import { useFormStatus } from "react-dom";
import { LoaderCircleIcon } from "lucide-react";

import { Button, type ButtonProps } from "@/components/ui/button";

export type SubmitButtonProps = Omit<ButtonProps, "asChild"> & {
  /** Label shown while the form's action runs (default "Working…"). */
  pendingLabel?: React.ReactNode;
};

/**
 * A submit button for a `<form action={serverAction}>`: while that form's action is pending
 * it is disabled, marked `aria-busy`, and shows a spinner with `pendingLabel`.
 * Must be rendered inside the form.
 */
export function SubmitButton({
  children,
  pendingLabel = "Working…",
  disabled,
  type = "submit",
  ...props
}: SubmitButtonProps) {
  const { pending } = useFormStatus();
  return (
    <Button {...props} type={type} disabled={pending || disabled} aria-busy={pending || undefined}>
      {pending ? (
        <>
          <LoaderCircleIcon className="animate-spin" aria-hidden="true" />
          <span>{pendingLabel}</span>
        </>
      ) : (
        children
      )}
    </Button>
  );
}
