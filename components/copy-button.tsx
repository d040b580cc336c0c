"use client";

import * as React from "react";
import { CheckIcon, CopyIcon } from "lucide-react";

import { Button, type ButtonProps } from "@/components/ui/button";

export type CopyButtonProps = {
  /** The text put on the clipboard. */
  value: string;
  /** Visible label (default "Copy"). */
  label?: string;
  variant?: ButtonProps["variant"];
  size?: ButtonProps["size"];
  className?: string;
};

async function writeClipboard(text: string): Promise<void> {
  if (typeof navigator !== "undefined" && navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Fallback for non-secure contexts (plain http on a LAN host), where the async API is absent.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    if (!document.execCommand("copy")) throw new Error("copy command was refused");
  } finally {
    document.body.removeChild(area);
  }
}

/** Copies `value` to the clipboard; shows "Copied" for 2 seconds (announced to screen readers). */
export function CopyButton({
  value,
  label = "Copy",
  variant = "outline",
  size = "sm",
  className,
}: CopyButtonProps) {
  const [state, setState] = React.useState<"idle" | "copied" | "failed">("idle");
  const timer = React.useRef<ReturnType<typeof setTimeout> | null>(null);

  React.useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const onClick = async () => {
    let next: "copied" | "failed";
    try {
      await writeClipboard(value);
      next = "copied";
    } catch {
      next = "failed";
    }
    setState(next);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => setState("idle"), 2000);
  };

  const text = state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : label;
  return (
    <Button type="button" variant={variant} size={size} className={className} onClick={onClick}>
      {state === "copied" ? <CheckIcon aria-hidden="true" /> : <CopyIcon aria-hidden="true" />}
      <span aria-live="polite">{text}</span>
    </Button>
  );
}
