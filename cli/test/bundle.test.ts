// The committed bundle (cli/dist): the GitHub Action runs cli/dist/benchwatch.mjs from its own
// checkout, so a change to the CLI's sources (cli/src, supabase/functions/_shared) or to what
// it bundles must come with a rebuilt cli/dist. This builds the CLI twice into temporary
// directories with cli/build.ts and fails when the builds differ from each other (the check
// would be meaningless) or from the committed files by a byte.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { buildCli } from "../build.ts";
import { ROOT, tmp } from "./helpers.ts";

const COMMITTED = join(ROOT, "cli", "dist");
const REBUILD = "run `npm run build:cli` and commit cli/dist";

function contents(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name))]));
}

/** Where two files first differ: a byte offset, or their lengths when one is a prefix. */
function firstDifference(a: Buffer, b: Buffer): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `byte ${i} differs`;
  }
  return `${a.length} bytes built, ${b.length} committed`;
}

test("esbuild's bundle is the same bytes on every build, wherever it is written", async () => {
  const [a, b] = [tmp(), tmp()];
  await buildCli(a);
  await buildCli(b);
  const first = contents(a);
  const second = contents(b);
  assert.deepEqual([...first.keys()], ["THIRD_PARTY_LICENSES.md", "benchwatch.mjs"]);
  assert.deepEqual([...second.keys()], [...first.keys()]);
  for (const [name, bytes] of first) {
    assert.ok(
      bytes.equals(second.get(name)!),
      `${name}: two builds differ (${firstDifference(bytes, second.get(name)!)})`,
    );
    assert.ok(!bytes.includes(ROOT), `${name} holds no path of this checkout`);
  }
});

test("the committed cli/dist is the bundle the sources build", async () => {
  assert.ok(existsSync(COMMITTED), `cli/dist is missing: ${REBUILD}`);
  const built = tmp();
  await buildCli(built);
  const fresh = contents(built);
  const committed = contents(COMMITTED);
  assert.deepEqual(
    [...committed.keys()],
    [...fresh.keys()],
    `cli/dist holds other files than a build: ${REBUILD}`,
  );
  for (const [name, bytes] of fresh) {
    const have = committed.get(name)!;
    assert.ok(
      bytes.equals(have),
      `cli/dist/${name} is stale (${firstDifference(bytes, have)}): ${REBUILD}`,
    );
  }
  if (existsSync(join(ROOT, ".git"))) {
    // git check-ignore --no-index exits 1 when no .gitignore rule matches the path.
    for (const name of fresh.keys()) {
      assert.throws(
        () =>
          execFileSync("git", ["check-ignore", "-q", "--no-index", `cli/dist/${name}`], {
            cwd: ROOT,
          }),
        (e: { status?: number }) => e.status === 1,
        `cli/dist/${name} is git-ignored: it must be committed (.gitignore)`,
      );
    }
  }
});
