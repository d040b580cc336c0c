import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const root = path.resolve(__dirname, "../..");

/** Runs one of `scripts/` as `npm run` would (tsx, react-server conditions); its exit code and output. */
export async function runScript(script: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)(path.join(root, "node_modules/.bin/tsx"), ["--conditions=react-server", `scripts/${script}`, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}
