import { projectKeysFromEnv } from "../_shared/auth.ts";
import { db } from "../_shared/db.ts";
import { createRegressionsHandler } from "./handler.ts";

Deno.serve(createRegressionsHandler({
  sql: db(),
  ...projectKeysFromEnv(),
}));
