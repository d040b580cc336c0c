import path from "node:path";
import { defineConfig } from "prisma/config";

// The native schema engine cannot be downloaded on offline machines; generate works
// without it. See scripts/prisma-schema-engine-stub.sh.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(__dirname, "scripts", "prisma-schema-engine-stub.sh");

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/custody" },
});
