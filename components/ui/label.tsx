import * as React from "react";

import { cn } from "@/lib/utils/cn";

export type LabelProps = React.ComponentProps<"label">;

/** Form label (native `<label>`, so it works in server components); pair with `htmlFor`. */
export function Label({ className, ...props }: LabelProps) {
  return (
    <label
      data-slot="label"
      className={cn(
        "text-sm leading-none font-medium text-foreground select-none",
        "peer-disabled:cursor-not-allowed peer-disabled:opacity-60",
        className,
      )}
      {...props}
    />
  );
}
