import { projectKeysFromEnv } from "../_shared/auth.ts";
import { db } from "../_shared/db.ts";
import { createIngestHandler } from "./handler.ts";

Deno.serve(createIngestHandler({
  sql: db(),
  ...projectKeysFromEnv(),
  rateLimitPerMinute: Number(Deno.env.get("BENCHWATCH_INGEST_RATE_LIMIT") || undefined),
}));
