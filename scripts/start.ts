// `npm start`: see lib/server/start-custody.ts for what runs. Demo mode's parts (lib/dev) are
// handed in from here: production code never imports lib/dev.
import { ConfigError } from "../lib/config";
import { demoMode } from "../lib/dev/demo/demo-mode";
import { startCustody } from "../lib/server/start-custody";
import { stopOnSignals } from "../lib/server/stop-on-signals";

startCustody(demoMode).then(
  (custody) => stopOnSignals("Custody", custody.stop),
  (error: unknown) => {
    console.error(`[custody] ${error instanceof ConfigError ? error.message : `could not start: ${error instanceof Error ? error.message : String(error)}`}`);
    process.exit(1);
  },
);
