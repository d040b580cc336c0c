import { closeSync, constants, fsyncSync, openSync, renameSync, writeSync } from "node:fs";

/** Writes `text` to `file` with mode 0600 (via a temporary file and a rename, so it is never half written). */
export function writeSecretFile(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}
