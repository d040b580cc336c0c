// `npm start`: see lib/server/start-custody.ts for what runs.
import { ConfigError } from "../lib/config";
import { startCustody } from "../lib/server/start-custody";

startCustody().then(
  (custody) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void custody.stop().finally(() => process.exit(0));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  },
  (error: unknown) => {
    console.error(`[custody] ${error instanceof ConfigError ? error.message : `could not start: ${error instanceof Error ? error.message : String(error)}`}`);
    process.exit(1);
  },
);
