// npm run openapi — regenerates lib/keyservice/openapi.json from the zod contract
// (lib/validation/keyservice.ts). Commit the result; a unit test fails when it is stale.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { buildOpenApiDocument } from "@/lib/keyservice/openapi";

const target = path.join(process.cwd(), "lib/keyservice/openapi.json");
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), target)}`);
