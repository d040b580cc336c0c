// A Custody instance's log-sink job, alone, for `npm run bench:sinks`: the production job
// (lib/jobs: a pass, enqueue then deliver, on each audit commit and at least every second) with the production transports, configured by
// the environment the bench gives it. Prints "ready", runs until SIGTERM.
import { getConfig } from "@/lib/config";
import { backgroundJobs, startJobRunner } from "@/lib/jobs";

const runner = startJobRunner(backgroundJobs(getConfig()).filter((job) => job.name === "log-sinks").map((job) => ({ ...job, firstRunMs: 0 })));
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void runner.stop().then(() => process.exit(0));
});
