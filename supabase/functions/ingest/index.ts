import { db } from "../_shared/db.ts";
import { createIngestHandler } from "./handler.ts";

Deno.serve(createIngestHandler({
  sql: db(),
  serviceRoleKey: Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ?? "",
  anonKey: Deno.env.get("SUPABASE_ANON_KEY") ?? "",
  rateLimitPerMinute: Number(Deno.env.get("BENCHWATCH_INGEST_RATE_LIMIT") || undefined),
}));
