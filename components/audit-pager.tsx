import Link from "next/link";
import { Button } from "@/components/ui/button";

/** Newest / older links for a keyset-paged audit list. */
export function AuditPager({ basePath, paged, nextBefore }: { basePath: string; paged: boolean; nextBefore: string | null }) {
  return (
    <div className="mt-4 flex justify-between">
      {paged ? (
        <Button asChild variant="outline" size="sm">
          <Link href={basePath}>← Newest</Link>
        </Button>
      ) : (
        <span />
      )}
      {nextBefore ? (
        <Button asChild variant="outline" size="sm">
          <Link href={`${basePath}?before=${nextBefore}`}>Older events →</Link>
        </Button>
      ) : null}
    </div>
  );
}

/** The `before` cursor from a query string, if well-formed. */
export function parseCursor(before: string | undefined): bigint | undefined {
  return before && /^\d{1,19}$/.test(before) ? BigInt(before) : undefined;
}
