import * as React from "react";
import { ChevronDownIcon } from "lucide-react";

import { cn } from "@/lib/utils/cn";

export type NativeSelectProps = React.ComponentProps<"select">;

/**
 * A styled native `<select>`: posts with its form (server actions) and needs no JavaScript.
 * Accepts every `<select>` prop, including `ref` (React 19 passes `ref` as a prop), `name`,
 * `defaultValue`, `required`, `disabled`, `aria-invalid`. Children are `<option>`s.
 * `className` applies to the `<select>`; it sits in a full-width `relative` wrapper with a chevron.
 */
export function NativeSelect({ className, multiple, ...props }: NativeSelectProps) {
  return (
    <div data-slot="native-select-wrapper" className="relative w-full">
      <select
        data-slot="native-select"
        multiple={multiple}
        className={cn(
          "flex w-full min-w-0 appearance-none rounded-md border border-input bg-card text-sm text-foreground shadow-xs",
          multiple ? "px-2 py-1" : "h-9 py-1 pr-9 pl-3",
          "transition-colors",
          "focus-visible:border-ring focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring/30",
          "disabled:cursor-not-allowed disabled:bg-muted disabled:opacity-60",
          "aria-invalid:border-destructive aria-invalid:focus-visible:ring-destructive/25",
          className,
        )}
        {...props}
      />
      {multiple ? null : (
        <ChevronDownIcon
          aria-hidden="true"
          className="pointer-events-none absolute top-1/2 right-3 size-4 -translate-y-1/2 text-muted-foreground"
        />
      )}
    </div>
  );
}
