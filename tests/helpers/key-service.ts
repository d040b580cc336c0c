import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { grantVendorAdmins } from "@/lib/auth/grant-vendor-admins";
import { createServiceCredential } from "@/lib/credentials";
import { getDb } from "@/lib/db";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_CUSTOMER_ADMIN, DEV_KMS_PRINCIPALS, DEV_KMS_ROLES, DEV_KMS_VENDOR, devKmsClientConfig } from "@/lib/dev/kms/defaults";
import { type DevKms, startDevKms } from "@/lib/dev/kms/server";
import type { RequestMeta } from "@/lib/http/request-meta";
import { registerKmsKey, verifyKmsKey } from "@/lib/keys";
import { keyPolicyAdmitting } from "@/lib/kms/providers/aws/instructions";
import { vendorKmsEnvironment } from "./dev-kms";
import type { Caller } from "@/lib/authz";
import { createTenant } from "@/lib/tenants";
import type { ServiceScope } from "@/lib/validation/keyservice";
import { awsKeyInput, pointAwsKmsAt } from "./aws-kms";

// The key service as the vendor's application meets it: real key-service processes
// (`scripts/keyservice.ts`) on a real PostgreSQL database, the development KMS reached through
// the AWS SDK, tenants whose keys were registered and verified through the console's own code.
// Shared by the integration tests and the benchmark.

const root = path.resolve(__dirname, "../..");
const request: RequestMeta = { sourceIp: "198.51.100.7", userAgent: "custody-tests", requestId: "req-fixture" };

export type KeyServiceInstance = {
  url: string;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL to the server process itself: it vanishes without cleaning up. Resolves once it has exited. */
  kill(): Promise<void>;
  process: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
};

export type TenantWithKey = { tenantId: string; slug: string; admin: Caller; kmsKeyArn: string; kmsKeyId: string };

export class KeyServiceFixture {
  private readonly instances: KeyServiceInstance[] = [];
  vendor!: Caller;
  undoKms: () => void = () => {};
  customer!: KMSClient;

  private constructor(
    readonly databaseUrl: string,
    readonly kms: DevKms,
    private readonly dataDir: string,
  ) {}

  /** Starts the development KMS and points this process's KMS provider at it. DATABASE_URL must be set. */
  static async start(databaseUrl: string): Promise<KeyServiceFixture> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "custody-keyservice-"));
    const kms = await startDevKms({ port: 0, dataDir, accountId: DEV_KMS_ACCOUNT_ID, principals: DEV_KMS_PRINCIPALS, roles: DEV_KMS_ROLES });
    const fixture = new KeyServiceFixture(databaseUrl, kms, dataDir);
    fixture.customer = new KMSClient(devKmsClientConfig(kms.endpoint, DEV_KMS_CUSTOMER_ADMIN));
    fixture.undoKms = pointAwsKmsAt(kms.endpoint);
    await grantVendorAdmins(["ops@vendor.example"]);
    fixture.vendor = await fixture.callerFor("ops@vendor.example");
    return fixture;
  }

  async callerFor(email: string): Promise<Caller> {
    return { userId: (await getDb().user.findUniqueOrThrow({ where: { email } })).id, request };
  }

  /** A tenant whose own KMS key (policy admitting Custody for it) is registered and verified. */
  async tenantWithKey(slug: string): Promise<TenantWithKey> {
    const { tenantId } = await createTenant(this.vendor, { name: slug, slug, adminEmail: `admin@${slug}.example` });
    const admin = await this.callerFor(`admin@${slug}.example`);
    const kmsKeyArn = await this.customerKey({ tenantId, slug });
    const { kmsKeyId } = await registerKmsKey(admin, awsKeyInput(tenantId, kmsKeyArn));
    const verified = await verifyKmsKey(admin, { tenantId, kmsKeyId });
    if (!verified.ok) throw new Error(`verification failed: ${JSON.stringify(verified.steps)}`);
    return { tenantId, slug, admin, kmsKeyArn, kmsKeyId };
  }

  /** A tenant with no key at all. */
  async tenantWithoutKey(slug: string): Promise<{ tenantId: string; admin: Caller }> {
    const { tenantId } = await createTenant(this.vendor, { name: slug, slug, adminEmail: `admin@${slug}.example` });
    return { tenantId, admin: await this.callerFor(`admin@${slug}.example`) };
  }

  /** A key in the customer's account whose policy admits Custody for these tenants. */
  async customerKey(...tenants: Array<{ tenantId: string; slug: string }>): Promise<string> {
    const policy = keyPolicyAdmitting({
      accountId: DEV_KMS_ACCOUNT_ID,
      vendorPrincipalArn: DEV_KMS_VENDOR.arn,
      tenants: tenants.map((t) => ({ tenantId: t.tenantId, tenantSlug: t.slug })),
    });
    const { KeyMetadata } = await this.customer.send(new CreateKeyCommand({ Policy: policy }));
    return KeyMetadata!.Arn!;
  }

  async credential(options: { name?: string; scopes?: ServiceScope[]; tenantId?: string } = {}): Promise<{ id: string; token: string }> {
    const created = await createServiceCredential(this.vendor, {
      name: options.name ?? `app-${Math.random().toString(36).slice(2, 8)}`,
      scopes: options.scopes ?? ["wrap", "unwrap", "rekey"],
      tenantId: options.tenantId,
    });
    return { id: created.id, token: created.token };
  }

  /** Starts one key-service process; resolves once it listens. */
  async instance(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<KeyServiceInstance> {
    // Node itself with tsx as a loader, not the tsx CLI: the CLI runs the server in a child of its
    // own, so a SIGKILL to it would leave the server running and holding its port.
    const child = spawn(process.execPath, [...nodeArgs, "--conditions=react-server", "--import", "tsx", "scripts/keyservice.ts"], {
      cwd: root,
      env: {
        NODE_ENV: "production",
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? os.tmpdir(),
        DATABASE_URL: this.databaseUrl,
        ...vendorKmsEnvironment(this.kms.endpoint),
        KEYSERVICE_PORT: "0",
        LOG_LEVEL: "warn",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const url = await new Promise<string>((resolve, reject) => {
      // A backstop against a hang: on a busy two-core machine a start (tsx compiling the service) can take a minute.
      const timer = setTimeout(() => reject(new Error(`key service did not start:\n${output}`)), 150_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /key service listening on (http:\/\/[^\s]+)\/api\/v1/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`key service exited with ${code}:\n${output}`));
      });
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const instance: KeyServiceInstance = {
      url,
      process: child,
      output: () => output,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
      },
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        await exited;
      },
    };
    this.instances.push(instance);
    return instance;
  }

  async close(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.stop()));
    this.undoKms();
    this.customer?.destroy();
    await this.kms.close();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export type ApiResult<T = Record<string, unknown>> = { status: number; body: T & { error?: { code: string; message: string } }; headers: Headers };

/** One key-service call, as the vendor's application makes it. */
export async function api<T = Record<string, unknown>>(url: string, token: string | null, operation: string, body: unknown): Promise<ApiResult<T>> {
  const response = await fetch(`${url}/api/v1/${operation}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as ApiResult<T>["body"], headers: response.headers };
}
