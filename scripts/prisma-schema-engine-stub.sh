#!/bin/sh
# Prisma's CLI wants its native schema engine for validate/format/generate; it cannot be
# downloaded offline. `prisma generate` does not need it to do any work, so this stub
# stands in. Migrations are applied by lib/db/migrate.ts, never by `prisma migrate`.
echo "the Prisma schema engine is not available here: use npm run db:migrate" >&2
exit 1
