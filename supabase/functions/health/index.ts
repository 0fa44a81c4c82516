import { projectKeysFromEnv } from "../_shared/auth.ts";
import { db } from "../_shared/db.ts";
import { createHealthHandler } from "./handler.ts";

Deno.serve(createHealthHandler({ sql: db(), ...projectKeysFromEnv() }));
