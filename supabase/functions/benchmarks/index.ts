import { projectKeysFromEnv } from "../_shared/auth.ts";
import { db } from "../_shared/db.ts";
import { createBenchmarksHandler } from "./handler.ts";

Deno.serve(createBenchmarksHandler({ sql: db(), ...projectKeysFromEnv() }));
