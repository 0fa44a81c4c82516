// The committed OpenAPI document and docs/api.md stay in sync with the code.

import assert from "node:assert/strict";
import { renderOpenApi } from "./openapi.ts";

const root = new URL("../../", import.meta.url);

Deno.test("docs/openapi.json is what the zod schemas generate (npm run openapi)", async () => {
  const committed = await Deno.readTextFile(new URL("docs/openapi.json", root));
  assert.equal(committed, renderOpenApi(), "docs/openapi.json is stale: run `npm run openapi`");
});

Deno.test("docs/api.md covers every endpoint and every error code the functions answer", async () => {
  const doc = await Deno.readTextFile(new URL("docs/api.md", root));
  const spec = JSON.parse(renderOpenApi());
  for (const [path, ops] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) {
      assert.ok(
        doc.includes(`${method.toUpperCase()} /functions/v1${path}`),
        `api.md documents ${method} ${path}`,
      );
    }
  }
  const codes = new Set<string>();
  for (
    const dir of [
      "supabase/functions/_shared",
      ...["ingest", "benchmarks", "regressions", "notify-slack", "health"].map((f) =>
        `supabase/functions/${f}`
      ),
    ]
  ) {
    for (const entry of Deno.readDirSync(new URL(dir, root))) {
      if (!entry.name.endsWith(".ts") || entry.name.endsWith("_test.ts")) continue;
      const src = await Deno.readTextFile(new URL(`${dir}/${entry.name}`, root));
      for (const m of src.matchAll(/(?:problem\(\s*\d{3},\s*|\[\d{3}, )"([a-z_]+)"/g)) {
        codes.add(m[1]);
      }
    }
  }
  assert.ok(codes.size > 10, `found the error codes in the source (${codes.size})`);
  for (const code of codes) {
    assert.ok(doc.includes(`\`${code}\``), `api.md documents error \`${code}\``);
  }
});
