import { KeyRoundIcon } from "lucide-react";

export default function AuthLayout({ children }: { children: React.ReactNode }) {
  return (
    <div className="flex min-h-dvh flex-col items-center justify-center bg-background px-4 py-12">
      <div className="mb-8 flex items-center gap-2 text-lg font-semibold tracking-tight">
        <span className="flex size-8 items-center justify-center rounded-md bg-foreground text-background">
          <KeyRoundIcon className="size-4" aria-hidden="true" />
        </span>
        Custody
      </div>
      <div className="w-full max-w-md">{children}</div>
    </div>
  );
}
