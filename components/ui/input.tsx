import * as React from "react";

import { cn } from "@/lib/utils/cn";

export type InputProps = React.ComponentProps<"input">;

/** Text input; `ref` and every `<input>` prop pass through. Set `aria-invalid` to show the error state. */
export function Input({ className, type = "text", ...props }: InputProps) {
  return (
    <input
      type={type}
      data-slot="input"
      className={cn(
        "flex h-9 w-full min-w-0 rounded-md border border-input bg-card px-3 py-1 text-sm text-foreground shadow-xs",
        "placeholder:text-muted-foreground transition-colors",
        "file:mr-3 file:border-0 file:bg-transparent file:text-sm file:font-medium file:text-foreground",
        "focus-visible:border-ring focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring/30",
        "disabled:cursor-not-allowed disabled:bg-muted disabled:opacity-60",
        "read-only:bg-muted",
        "aria-invalid:border-destructive aria-invalid:focus-visible:ring-destructive/25",
        className,
      )}
      {...props}
    />
  );
}
