// baseline, tokens, webhook setup and doctor, end to end against the test stack.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { cli, closeDb, countRuns, db, guideFile, REGRESSED, uniq, UUID } from "./helpers.ts";

after(closeDb);

test("baseline set | list | unset", async () => {
  const model = uniq("cli-baseline");
  await cli(["push", "--input", guideFile(model), "--environment", "local", "--commit-sha", "b1"]);
  const list0 = await cli(["baseline", "list", "--model-version", model]);
  assert.match(list0.stdout, /no baseline/);
  const set = await cli(["baseline", "set", "--model-version", model]);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, new RegExp(`✓ Baseline pinned: transaction ${UUID.source}`));
  const list1 = await cli(["baseline", "list", "--model-version", model]);
  assert.match(list1.stdout, /own baseline/);
  const pushed = await cli([
    "push",
    "--input",
    guideFile(model, REGRESSED),
    "--environment",
    "local",
    "--commit-sha",
    "b2",
  ]);
  assert.match(pushed.stdout, /REGRESSION/, "the pinned baseline is used");
  const unset = await cli([
    "baseline",
    "unset",
    "--model-version",
    model,
    "--environment",
    "local",
  ]);
  assert.equal(unset.code, 0);
  assert.match(unset.stdout, /✓ Unpinned 1 baseline/);
  const none = await cli(["baseline", "set", "--model-version", `${model}-nope`]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /No series matches/);
  const anon = await cli(["baseline", "set", "--model-version", model], {
    SUPABASE_SERVICE_ROLE_KEY: undefined,
  });
  assert.equal(anon.code, 2, "pinning needs the service role key");
});

test("tokens create | list | revoke, and a token can push but not pin", async () => {
  const name = uniq("ci-token");
  const created = await cli(["tokens", "create", name]);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.match(/^bw_[A-Za-z0-9_-]{43}$/m)?.[0];
  assert.ok(token, created.stdout);
  const [stored] =
    await db()`select token_hash from benchwatch_private.ingest_tokens where name = ${name}`;
  assert.notEqual(stored.token_hash, token, "only a hash is stored");
  assert.match(stored.token_hash, /^[0-9a-f]{64}$/);

  const model = uniq("cli-token");
  const asToken = { SUPABASE_SERVICE_ROLE_KEY: undefined, BENCHWATCH_INGEST_TOKEN: token };
  const pushed = await cli(["push", "--input", guideFile(model), "--commit-sha", "t1"], asToken);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.equal(await countRuns(model), 1);
  const pin = await cli(["baseline", "set", "--model-version", model, "--key", token!]);
  assert.equal(pin.code, 2);
  assert.match(pin.stderr, /ingest token can only push runs/);

  const list = await cli(["tokens", "list"]);
  const id = list.stdout.split("\n").find((l) => l.includes(name))?.split(" ")[0];
  assert.ok(id && UUID.test(id), list.stdout);
  assert.ok(!list.stdout.includes(token!), "list never shows the token");
  const revoked = await cli(["tokens", "revoke", id!]);
  assert.equal(revoked.code, 0, revoked.stderr);
  const after = await cli(["push", "--input", guideFile(model), "--commit-sha", "t2"], asToken);
  assert.equal(after.code, 2);
  assert.match(after.stderr, /unknown or revoked/);
});

test("doctor shows ✗ with a fix while the webhook secret is unset, ✓ after webhook setup", async () => {
  const saved =
    await db()`select name, decrypted_secret from vault.decrypted_secrets where name in ('benchwatch_functions_url', 'benchwatch_webhook_secret')`;
  // vault has no delete function; hosted grants DELETE on vault.decrypted_secrets.
  await db()`delete from vault.decrypted_secrets where name = 'benchwatch_webhook_secret'`;
  try {
    const before = await cli(["doctor"]);
    assert.equal(before.code, 3);
    assert.match(
      before.stdout,
      /✗ Webhook secret is not set[^\n]*\n +fix: benchwatch webhook setup/,
    );
    assert.match(before.stdout, /✓ Tables benchmark_transactions and benchmark_snapshots exist/);
    assert.match(
      before.stdout,
      /✓ Functions deployed: ingest, regressions, benchmarks, notify-slack/,
    );

    const setup = await cli(["webhook", "setup"]);
    assert.equal(setup.code, 0, setup.stderr);
    const after = await cli(["doctor"]);
    assert.match(after.stdout, /✓ Webhook secret is set in vault/);
    assert.match(after.stdout, /✓ Slack is configured/);
  } finally {
    // Put the stack's own secret back, so the rest of the suite signs as before.
    for (const s of saved) {
      await db()`select vault.update_secret(id, ${s.decrypted_secret}) from vault.decrypted_secrets where name = ${s.name}`;
    }
  }
  const bad = await cli(["webhook", "setup", "--secret", "not-a-secret"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /whsec_/);
});
