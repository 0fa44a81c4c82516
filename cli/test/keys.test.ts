// The CLI with the new API keys only (sb_secret_ / sb_publishable_, no legacy JWT in the
// environment), against the test stack: pushes, reads, admin commands, doctor and the
// dashboard all work, and a publishable key is refused for writes as the read-only key.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  cli,
  closeDb,
  countRuns,
  guideFile,
  serveDashboard,
  stack,
  uniq,
  UUID,
} from "./helpers.ts";

after(closeDb);

const NEW_KEYS_ONLY = () => ({
  SUPABASE_SERVICE_ROLE_KEY: undefined,
  SUPABASE_ANON_KEY: undefined,
  SUPABASE_SECRET_KEY: stack("SUPABASE_SECRET_KEY"),
  SUPABASE_PUBLISHABLE_KEY: stack("SUPABASE_PUBLISHABLE_KEY"),
});

test("new keys: push with SUPABASE_SECRET_KEY records the run; check reads it with the publishable key", async () => {
  assert.match(stack("SUPABASE_SECRET_KEY"), /^sb_secret_/);
  assert.match(stack("SUPABASE_PUBLISHABLE_KEY"), /^sb_publishable_/);
  const model = uniq("cli-newkeys");
  const pushed = await cli(
    ["push", "--input", guideFile(model), "--commit-sha", `${model}-1`, "--verify"],
    NEW_KEYS_ONLY(),
  );
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stdout, new RegExp(`✓ Benchmark persisted successfully: ${UUID.source}`));
  assert.equal(await countRuns(model), 1);

  const read = await cli(["check", "--commit-sha", `${model}-1`], {
    ...NEW_KEYS_ONLY(),
    SUPABASE_SECRET_KEY: undefined,
  });
  assert.equal(read.code, 0, `${read.stdout}\n${read.stderr}`);
});

test("new keys: the publishable key is refused for pushes and admin commands as read-only", async () => {
  const model = uniq("cli-newkeys-ro");
  const asPublishable = {
    ...NEW_KEYS_ONLY(),
    SUPABASE_SECRET_KEY: stack("SUPABASE_PUBLISHABLE_KEY"),
  };
  const push = await cli(["push", "--input", guideFile(model), "--commit-sha", "x"], asPublishable);
  assert.equal(push.code, 2);
  assert.match(push.stderr, /Permission denied: this is the publishable \/ anon \(read-only\) key/);
  assert.equal(await countRuns(model), 0);
  const tokens = await cli(["tokens", "list"], asPublishable);
  assert.equal(tokens.code, 2);
  assert.match(tokens.stderr, /read-only/);
});

test("new keys: admin commands work with the secret key", async () => {
  const list = await cli(["tokens", "list"], NEW_KEYS_ONLY());
  assert.equal(list.code, 0, list.stderr);
  const name = uniq("newkeys-token");
  const created = await cli(["tokens", "create", name], NEW_KEYS_ONLY());
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^bw_[A-Za-z0-9_-]{43}$/m);
});

test("new keys: doctor names the keys it found and reaches every function with them", async () => {
  const r = await cli(["doctor"], NEW_KEYS_ONLY());
  assert.match(r.stdout, /✓ SUPABASE_SECRET_KEY is set/);
  assert.match(r.stdout, /✓ SUPABASE_PUBLISHABLE_KEY is set/);
  assert.match(r.stdout, /✓ Supabase is reachable/);
  assert.match(r.stdout, /✓ Functions deployed: /);
  assert.match(r.stdout, /✓ Webhook secret is set in vault/);
});

test("new keys: dashboard hands the page the publishable key, and refuses a secret key", async () => {
  const { url, child } = await serveDashboard({
    SUPABASE_URL: stack("SUPABASE_URL"),
    SUPABASE_PUBLISHABLE_KEY: stack("SUPABASE_PUBLISHABLE_KEY"),
    SUPABASE_SECRET_KEY: stack("SUPABASE_SECRET_KEY"),
  });
  try {
    assert.deepEqual(await (await fetch(`${url}/env.json`)).json(), {
      SUPABASE_URL: stack("SUPABASE_URL"),
      SUPABASE_PUBLISHABLE_KEY: stack("SUPABASE_PUBLISHABLE_KEY"),
    });
  } finally {
    child.kill("SIGTERM");
  }
  const refused = await cli(["dashboard", "--port", "0"], {
    SUPABASE_ANON_KEY: undefined,
    SUPABASE_PUBLISHABLE_KEY: stack("SUPABASE_SECRET_KEY"),
  });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /Use a read-only key in SUPABASE_PUBLISHABLE_KEY/);
});
