import fs from "node:fs";

/**
 * The one key-file reader: reads `file` and parses it with `parse`, which throws an Error whose
 * message is safe to show. Either failure names the file but never its contents, so no key
 * material reaches a log line or a start-up error.
 */
export function readKeyFile<T>(file: string, parse: (text: string) => T): T {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new Error(`cannot read ${file}`);
  }
  try {
    return parse(text);
  } catch (error) {
    throw new Error(`${file} ${(error as Error).message}`);
  }
}
