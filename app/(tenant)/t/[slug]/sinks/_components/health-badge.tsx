import { Badge } from "@/components/ui/badge";
import type { SinkHealth } from "@/lib/sinks";

const VARIANT = { healthy: "success", retrying: "warning", failing: "destructive", disabled: "secondary" } as const satisfies Record<SinkHealth, string>;

export function HealthBadge({ health }: { health: SinkHealth }) {
  return (
    <Badge variant={VARIANT[health]} data-testid="sink-health">
      {health}
    </Badge>
  );
}
