"use client";

import * as React from "react";
import { useRouter } from "next/navigation";
import Link from "next/link";
import { Button } from "@/components/ui/button";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { NativeSelect } from "@/components/ui/select";

export type FilterValues = Partial<Record<"action" | "outcome" | "actor" | "key" | "label" | "object" | "request" | "from" | "to" | "q", string>>;

export type AuditFilterFormProps = {
  /** The page the filter applies to, e.g. /t/acme/audit. */
  basePath: string;
  /** The current filter, as in the URL (times as ISO strings). */
  values: FilterValues;
  /** Messages for fields the server refused, by field name. */
  errors: Partial<Record<string, string>>;
  actions: Array<{ value: string; label: string }>;
  keys: Array<{ value: string; label: string }>;
};

const pad = (n: number) => String(n).padStart(2, "0");

/** An ISO time as a datetime-local value in the browser's time zone. */
function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

const noSubscription = () => () => {};

const TEXT_FIELDS = [
  { name: "actor", label: "Actor", hint: "Email, credential name, or the user a service acted for" },
  { name: "label", label: "Data label", hint: undefined },
  { name: "object", label: "Object id", hint: undefined },
  { name: "request", label: "Request id", hint: undefined },
] as const;

/**
 * The trail's filters. Applying them navigates to a URL that holds them, so a filtered view can
 * be bookmarked and shared; times are entered in the browser's zone and sent as UTC instants.
 */
export function AuditFilterForm({ basePath, values, errors, actions, keys }: AuditFilterFormProps) {
  const router = useRouter();
  // datetime-local needs the browser's zone, which the server does not know: the time fields
  // render empty on the server and are filled (remounted) once in the browser.
  const inBrowser = React.useSyncExternalStore(noSubscription, () => true, () => false);
  const active = Object.values(values).some((v) => v !== undefined && v !== "");

  function apply(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const params = new URLSearchParams();
    for (const [name, raw] of data.entries()) {
      const value = String(raw).trim();
      if (!value) continue;
      if (name === "from" || name === "to") {
        const date = new Date(value); // datetime-local: the browser's zone
        params.set(name, Number.isNaN(date.getTime()) ? value : date.toISOString());
      } else {
        params.set(name, value);
      }
    }
    const query = params.toString();
    router.push(query ? `${basePath}?${query}` : basePath);
  }

  return (
    <form onSubmit={apply} aria-label="Filter the audit trail" className="mb-4 space-y-3 rounded-md border border-border p-3">
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <FormField label="Search" htmlFor="audit-q" error={errors.q} className="sm:col-span-2">
          <Input id="audit-q" name="q" type="search" defaultValue={values.q ?? ""} placeholder="Any id, label, actor, reason…" maxLength={200} />
        </FormField>
        <FormField label="Action" htmlFor="audit-action" error={errors.action}>
          <NativeSelect id="audit-action" name="action" defaultValue={values.action ?? ""}>
            <option value="">Any action</option>
            {actions.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </NativeSelect>
        </FormField>
        <FormField label="Outcome" htmlFor="audit-outcome" error={errors.outcome}>
          <NativeSelect id="audit-outcome" name="outcome" defaultValue={values.outcome ?? ""}>
            <option value="">Any outcome</option>
            <option value="success">Success</option>
            <option value="denied">Denied</option>
            <option value="failure">Failure</option>
          </NativeSelect>
        </FormField>
        {TEXT_FIELDS.map((field) => (
          <FormField key={field.name} label={field.label} htmlFor={`audit-${field.name}`} error={errors[field.name]}>
            <Input
              id={`audit-${field.name}`}
              name={field.name}
              defaultValue={values[field.name] ?? ""}
              maxLength={200}
              placeholder={field.hint}
              title={field.hint}
            />
          </FormField>
        ))}
        {keys.length > 0 ? (
          <FormField label="Key" htmlFor="audit-key" error={errors.key}>
            <NativeSelect id="audit-key" name="key" defaultValue={values.key ?? ""}>
              <option value="">Any key</option>
              {keys.map((k) => (
                <option key={k.value} value={k.value}>
                  {k.label}
                </option>
              ))}
            </NativeSelect>
          </FormField>
        ) : null}
        <FormField label="From" htmlFor="audit-from" error={errors.from}>
          <Input
            id="audit-from"
            name="from"
            type="datetime-local"
            key={inBrowser ? "browser" : "server"}
            defaultValue={inBrowser ? toLocalInput(values.from) : ""}
          />
        </FormField>
        <FormField label="Until" htmlFor="audit-to" error={errors.to}>
          <Input
            id="audit-to"
            name="to"
            type="datetime-local"
            key={inBrowser ? "browser" : "server"}
            defaultValue={inBrowser ? toLocalInput(values.to) : ""}
          />
        </FormField>
      </div>
      <div className="flex items-center gap-2">
        <Button type="submit" size="sm">
          Apply filters
        </Button>
        {active ? (
          <Button asChild variant="ghost" size="sm">
            <Link href={basePath}>Clear filters</Link>
          </Button>
        ) : null}
        <span className="text-xs text-muted-foreground">Times are in your browser&apos;s time zone. Filtered views are links you can share.</span>
      </div>
    </form>
  );
}
