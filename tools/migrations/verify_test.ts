// `npm run migrations:verify` must see what a rewrite of the migrations could lose: a grant, a
// seed row, a pg_cron job. Two builds of HEAD's migrations, one with a probe migration on top
// that revokes a grant, edits a seed row and reschedules a job, must differ in exactly the
// checks that cover those, and nowhere else (so two builds of the same migrations on different
// clusters compare equal: partition names, timestamps, pg_dump's keys are normalized).

import assert from "node:assert/strict";
import { normalizeRows, verifyMigrations } from "./verify.ts";
import { loadConfig } from "../../local/stack/config.ts";

Deno.test("normalizeRows sorts each table's rows and masks the migrations' own timestamps", () => {
  const out = normalizeRows([
    "COPY public.t (a, at) FROM stdin;",
    "b\t2026-12-02 02:19:49.199169+00",
    "a\t2026-01-01 00:00:00+00",
    "\\.",
    "SELECT 1;",
  ], "2026-12-02");
  assert.deepEqual(out, [
    "COPY public.t (a, at) FROM stdin;",
    "a\t2026-01-01 00:00:00+00",
    "b\t<migration time>",
    "\\.",
    "SELECT 1;",
  ]);
});

Deno.test({
  name: "migrations:verify reports a lost grant, a changed seed row and a moved job, and only them",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = loadConfig("test").repoRoot;
    const lines: string[] = [];
    const code = await verifyMigrations(["HEAD"], {
      base: `${root}/.local/migrations-verify-test`,
      prepare: async (oldDir, newDir) => {
        // The new side is HEAD's migrations too, whatever the working tree holds, plus the probe.
        await Deno.remove(`${newDir}/supabase/migrations`, { recursive: true });
        await Deno.mkdir(`${newDir}/supabase/migrations`);
        for await (const e of Deno.readDir(`${oldDir}/supabase/migrations`)) {
          await Deno.copyFile(
            `${oldDir}/supabase/migrations/${e.name}`,
            `${newDir}/supabase/migrations/${e.name}`,
          );
        }
        await Deno.writeTextFile(
          `${newDir}/supabase/migrations/29991231000000_probe.sql`,
          [
            "revoke all on function benchwatch_private.record_run(jsonb, text) from service_role;",
            "update public.metric_policies set description = 'probe' where metric = 'f1';",
            "select cron.schedule('archive-benchmarks', '30 3 * * *', " +
            "'select public.archive_benchmarks()');",
          ].join("\n") + "\n",
        );
      },
      say: (s) => lines.push(s),
    });
    const report = lines.join("\n");
    assert.equal(code, 1, report);
    const verdicts = new Map(
      [...report.matchAll(/^== (.*): (no difference|DIFFERENT)$/gm)].map((m) => [m[1], m[2]]),
    );
    const differing = [...verdicts].filter(([, v]) => v === "DIFFERENT").map(([k]) => k).sort();
    assert.deepEqual(differing, [
      "catalog: cron_jobs (old → new)",
      "catalog: functions (old → new)",
      "docs/schema as npm run schema generates it (old → new)",
      "pg_dump --data-only: every table's rows (old → new)",
      "pg_dump --schema-only (old → new)",
      "supabase db diff --experimental --from new --to old",
      "supabase db diff --experimental --from old --to new",
    ], report);
    assert.equal(verdicts.size, 17, report);
    assert.match(report, /-f1\thigher\t.*Default: higher is better\./);
    assert.match(report, /\+f1\thigher\t.*probe/);
    assert.match(report, /archive-benchmarks \| 30 3 \* \* \*/);
    assert.match(
      report,
      /GRANT EXECUTE ON FUNCTION "benchwatch_private"\."record_run"\(jsonb, text\) TO "service_role"/,
    );
  },
});
