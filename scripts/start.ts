// `npm start`: see lib/server/start-custody.ts for what runs.
import { ConfigError } from "../lib/config";
import { startCustody } from "../lib/server/start-custody";
import { stopOnSignals } from "../lib/server/stop-on-signals";

startCustody().then(
  (custody) => stopOnSignals("Custody", custody.stop),
  (error: unknown) => {
    console.error(`[custody] ${error instanceof ConfigError ? error.message : `could not start: ${error instanceof Error ? error.message : String(error)}`}`);
    process.exit(1);
  },
);
