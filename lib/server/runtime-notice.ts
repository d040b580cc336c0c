import { setLibraryEnvironment } from "@/lib/config/environment";

// Custody supports the Node.js LTS lines 22 and 24. Node 20 reached its end of life in April
// 2026 and still runs Custody; the dependencies are leaving it one by one.
export const SUPPORTED_NODE_LINES = [22, 24] as const;

/**
 * Replaces the AWS SDK's nine-line notice that its 2027 releases need Node 22 (switched off by
 * its documented AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED) with one line of Custody's
 * own, printed only on a Node.js older than 22. Call before anything creates an AWS SDK client.
 */
export function runtimeNotice(nodeVersion: string = process.versions.node): string | null {
  setLibraryEnvironment({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" }, { keepExisting: true });
  const major = Number(nodeVersion.split(".")[0]);
  if (major >= SUPPORTED_NODE_LINES[0]) return null;
  return `Node.js ${nodeVersion} is past its end of life: Custody supports Node.js ${SUPPORTED_NODE_LINES.join(" and ")} (and still runs on 20)`;
}
