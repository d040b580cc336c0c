import * as React from "react";
import { InboxIcon } from "lucide-react";

import { cn } from "@/lib/utils/cn";

export type EmptyStateProps = {
  title: React.ReactNode;
  description?: React.ReactNode;
  /** A call to action, e.g. a Button or a link styled as one. */
  action?: React.ReactNode;
  /** Replaces the default inbox icon (pass a lucide icon element). */
  icon?: React.ReactNode;
  className?: string;
};

/** Placeholder for a list or table with nothing in it yet. */
export function EmptyState({ title, description, action, icon, className }: EmptyStateProps) {
  return (
    <div
      data-slot="empty-state"
      className={cn(
        "flex flex-col items-center justify-center rounded-lg border border-dashed border-input bg-card px-6 py-12 text-center",
        className,
      )}
    >
      <div
        aria-hidden="true"
        className="mb-3 flex size-10 items-center justify-center rounded-full bg-muted text-muted-foreground [&_svg]:size-5"
      >
        {icon ?? <InboxIcon />}
      </div>
      <p className="text-sm font-semibold text-foreground">{title}</p>
      {description ? (
        <p className="mt-1 max-w-md text-sm text-muted-foreground">{description}</p>
      ) : null}
      {action ? <div className="mt-5 flex flex-wrap justify-center gap-2">{action}</div> : null}
    </div>
  );
}
