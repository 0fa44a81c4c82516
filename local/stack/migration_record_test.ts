// A stack remembers the content of the migrations it applied, so a migration edited after
// `supabase db push` applied it (which push never re-applies) is noticed, not silently kept.

import assert from "node:assert/strict";
import type { StackConfig } from "./config.ts";
import { changedMigrations, recordAppliedMigrations } from "./postgres.ts";

Deno.test("stack: a migration changed or removed after it was applied is reported", async () => {
  const root = await Deno.makeTempDir();
  try {
    const project = `${root}/project`;
    await Deno.mkdir(`${project}/supabase/migrations`, { recursive: true });
    await Deno.mkdir(`${root}/stack/db`, { recursive: true });
    const cfg = { dir: `${root}/stack`, repoRoot: project } as StackConfig;
    const file = (n: string) => `${project}/supabase/migrations/${n}`;
    await Deno.writeTextFile(file("20260101000000_a.sql"), "create table a ();\n");
    await Deno.writeTextFile(file("20260102000000_b.sql"), "create table b ();\n");

    assert.deepEqual(await changedMigrations(cfg), [], "nothing recorded yet: nothing to report");
    await recordAppliedMigrations(cfg);
    assert.deepEqual(await changedMigrations(cfg), [], "as applied");

    await Deno.writeTextFile(file("20260103000000_c.sql"), "create table c ();\n");
    assert.deepEqual(await changedMigrations(cfg), [], "a new migration is push's to apply");

    await Deno.writeTextFile(file("20260101000000_a.sql"), "create table a (x int);\n");
    await Deno.remove(file("20260102000000_b.sql"));
    assert.deepEqual(await changedMigrations(cfg), [
      "20260101000000_a.sql",
      "20260102000000_b.sql",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
