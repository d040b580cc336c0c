import { z } from "zod";

// Imported by client components that validate with zod. In the browser zod must not probe for
// eval (its JIT): under the console's CSP (no 'unsafe-eval') the probe is refused and reported
// as a CSP violation, even though zod catches it and falls back. On the server the JIT stays on.
if (typeof window !== "undefined") z.config({ jitless: true });
