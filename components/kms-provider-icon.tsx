import type { ProviderIcon } from "@/lib/kms/provider";

/** A KMS provider's icon (its own SVG path data, lib/kms/providers/<name>/), decorative beside its name. */
export function KmsProviderIcon({ icon, className = "size-4" }: { icon: ProviderIcon; className?: string }) {
  return (
    <svg viewBox={icon.viewBox} className={`inline-block shrink-0 ${className}`} aria-hidden="true" focusable="false">
      {icon.paths.map((path, index) => (
        <path key={index} d={path.d} fill={path.fill ?? "currentColor"} />
      ))}
    </svg>
  );
}
