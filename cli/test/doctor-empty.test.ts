// `benchwatch doctor` on a correctly deployed project that has recorded nothing yet: npm
// test runs this file before anything is ingested (with the dashboard's empty-state test),
// not with the other CLI tests. An empty project is a warning, never a failure.

import assert from "node:assert/strict";
import { test } from "node:test";
import { cli } from "./helpers.ts";

test("doctor on an empty, deployed project exits 0 and warns that no run is recorded yet", async () => {
  const res = await cli(["doctor"]);
  assert.match(res.stdout, /✓ Functions deployed: ingest, regressions, benchmarks, notify-slack/);
  assert.match(res.stdout, /✓ Webhook secret is set in vault/);
  assert.match(
    res.stdout,
    /! No runs recorded yet\n +next: benchwatch push --input results.json/,
    "this test needs a database with no runs",
  );
  assert.doesNotMatch(res.stdout, /✗/, "nothing fails");
  assert.match(res.stdout, /All checks passed \(1 warning\)/);
  assert.equal(res.code, 0, res.stdout + res.stderr);
});

test("doctor still exits 3 on a failure, next to the empty project's warning", async () => {
  const res = await cli(["doctor"], {
    SUPABASE_ANON_KEY: undefined,
    SUPABASE_PUBLISHABLE_KEY: undefined,
  });
  assert.match(res.stdout, /✗ SUPABASE_PUBLISHABLE_KEY \(or SUPABASE_ANON_KEY\) is not set/);
  assert.match(res.stdout, /! No runs recorded yet/);
  assert.match(res.stdout, /1 check failed \(1 warning\)/);
  assert.equal(res.code, 3);
});
