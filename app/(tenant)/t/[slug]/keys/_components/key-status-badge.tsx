import { Badge } from "@/components/ui/badge";
import type { KeyView } from "@/lib/keys";

const LABELS: Record<KeyView["status"], string> = {
  PENDING_VERIFICATION: "pending verification",
  ACTIVE: "active",
  PREVIOUS: "previous",
  REVOKED: "revoked",
  // Not set any more (a failed verification is not a state); kept for the enum.
  ERROR: "error",
  RETIRED: "retired",
};

export function KeyStatusBadge({ keyView }: { keyView: Pick<KeyView, "status" | "isPrimary"> }) {
  const variant =
    keyView.status === "ACTIVE" ? "success" : keyView.status === "REVOKED" || keyView.status === "ERROR" ? "destructive" : keyView.status === "PREVIOUS" || keyView.status === "RETIRED" ? "secondary" : "warning";
  return (
    <span className="inline-flex items-center gap-1">
      <Badge variant={variant} data-testid="key-status">
        {LABELS[keyView.status]}
      </Badge>
      {keyView.isPrimary ? <Badge variant="outline">primary</Badge> : null}
    </span>
  );
}
