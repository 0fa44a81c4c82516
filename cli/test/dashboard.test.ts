// benchwatch dashboard serves the built dashboard against a project with its anon key only.

import assert from "node:assert/strict";
import { test } from "node:test";
import { cli, serveDashboard, stack } from "./helpers.ts";

test("dashboard serves the app and hands it the URL and the anon key, nothing more", async () => {
  const { url, child } = await serveDashboard({
    SUPABASE_URL: stack("SUPABASE_URL"),
    SUPABASE_ANON_KEY: stack("SUPABASE_ANON_KEY"),
    SUPABASE_SERVICE_ROLE_KEY: stack("SUPABASE_SERVICE_ROLE_KEY"),
  });
  try {
    const env = await (await fetch(`${url}/env.json`)).json();
    assert.deepEqual(env, {
      SUPABASE_URL: stack("SUPABASE_URL"),
      SUPABASE_ANON_KEY: stack("SUPABASE_ANON_KEY"),
    });
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>[^<]*benchwatch/i);
    const deep = await fetch(`${url}/some/view`);
    assert.match(
      await deep.text(),
      /<div id="app"|<main|<!doctype html>/i,
      "unknown paths get the app",
    );
  } finally {
    child.kill("SIGTERM");
  }
});

test("dashboard refuses a service key in SUPABASE_ANON_KEY", async () => {
  const r = await cli(["dashboard", "--port", "0"], {
    SUPABASE_ANON_KEY: stack("SUPABASE_SERVICE_ROLE_KEY"),
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /must never hold a secret or service key/);
});
