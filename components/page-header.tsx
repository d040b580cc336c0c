import * as React from "react";

import { cn } from "@/lib/utils/cn";

export type PageHeaderProps = {
  title: React.ReactNode;
  description?: React.ReactNode;
  /** Buttons or links, right-aligned (wrap under the title on narrow screens). */
  actions?: React.ReactNode;
  /** Heading element; `h2` by default because AppShell already renders the page's `h1`. */
  as?: "h1" | "h2" | "h3";
  className?: string;
};

/** A section/page heading row: title and description on the left, actions on the right. */
export function PageHeader({ title, description, actions, as: Heading = "h2", className }: PageHeaderProps) {
  return (
    <div
      data-slot="page-header"
      className={cn("mb-4 flex flex-wrap items-start justify-between gap-x-6 gap-y-3", className)}
    >
      <div className="min-w-0 space-y-1">
        <Heading
          className={cn(
            "font-semibold tracking-tight text-foreground",
            Heading === "h1" ? "text-2xl" : Heading === "h2" ? "text-lg" : "text-base",
          )}
        >
          {title}
        </Heading>
        {description ? (
          <p className="max-w-3xl text-sm text-muted-foreground">{description}</p>
        ) : null}
      </div>
      {actions ? <div className="flex max-w-full shrink-0 flex-wrap items-center gap-2">{actions}</div> : null}
    </div>
  );
}
