import { db } from "../_shared/db.ts";
import { createRegressionsHandler } from "./handler.ts";

Deno.serve(createRegressionsHandler({
  sql: db(),
  serviceRoleKey: Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ?? "",
  anonKey: Deno.env.get("SUPABASE_ANON_KEY") ?? "",
}));
