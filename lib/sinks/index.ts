// Log sinks, the console's verbs (issue 6), one per file in ./operations: tenant admins add,
// edit, disable, delete, retry and test; admins and auditors read. Another tenant's sink is not
// found. Every change is an event in the tenant's own chain (and so, in turn, goes to its
// sinks). Secrets are shown once, when generated (webhook) or never (HEC tokens are entered),
// and never audited or logged. What differs by kind is in ./kinds.

export { createSink } from "./operations/create-sink";
export { deleteSink } from "./operations/delete-sink";
export { getSink } from "./operations/get-sink";
export { listSinks } from "./operations/list-sinks";
export { retryFailedDeliveries } from "./operations/retry-failed-deliveries";
export { sendTestEvent, type TestResult } from "./operations/send-test-event";
export { setSinkEnabled } from "./operations/set-sink-enabled";
export { MAX_SINKS_PER_TENANT, type SinkSecretOnce } from "./operations/shared";
export type { SinkHealth, SinkStatus, SinkView } from "./operations/sink-view";
export { updateSink } from "./operations/update-sink";
