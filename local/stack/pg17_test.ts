// The PostgreSQL 17 rehearsal (local/stack/pg17.ts): the compatibility bootstrap and every
// migration apply to PostgreSQL 17, the major version hosted Supabase gives new projects,
// with the hosted role model: migrations run as a postgres that is not a superuser.

import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";
import { startPg17 } from "./pg17.ts";
import { freePort, run } from "./proc.ts";

// A port the OS picks, like the migrations check's clusters, so the two never race for one.
const PORT = freePort();

Deno.test({
  name: "PostgreSQL 17: the bootstrap and every migration apply as a demoted postgres",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = loadConfig("test").repoRoot;
    const pg = await startPg17(PORT);
    try {
      const psql = (url: string, sql: string) =>
        run(["psql", url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql]);
      assert.match((await psql(pg.adminDbUrl, "show server_version_num")).stdout, /^17\d{4}/);

      await run([
        "psql",
        pg.adminDbUrl,
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-v",
        "postgres_password=postgres",
        "-f",
        `${root}/local/compat/supabase-compat.sql`,
      ], { env: { PGOPTIONS: "-c client_min_messages=warning" } });
      assert.equal(
        (await psql(pg.dbUrl, "select rolsuper from pg_roles where rolname = current_user"))
          .stdout.trim(),
        "f",
        "postgres is not a superuser",
      );

      const push = await run([
        `${root}/node_modules/.bin/supabase`,
        "db",
        "push",
        "--db-url",
        `${pg.dbUrl}?sslmode=disable`,
        "--workdir",
        root,
        "--yes",
      ], { env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" }, check: false });
      assert.equal(push.code, 0, push.stdout + push.stderr);

      const files = [...Deno.readDirSync(`${root}/supabase/migrations`)]
        .filter((e) => e.name.endsWith(".sql")).length;
      const applied = await psql(
        pg.dbUrl,
        "select count(*) from supabase_migrations.schema_migrations",
      );
      assert.equal(Number(applied.stdout.trim()), files, "every migration is recorded");

      // The schema works there: the setup guide's function records a run and its verdict.
      await psql(
        pg.dbUrl,
        "select public.upsert_benchmark_result('c1', 'main', 'pg17-model', 'openai', 'ds', null, 'p1', 'pg17', 'r1', 'ci', '{\"f1\": 0.9}'::jsonb, null, null, null)",
      );
      const n = await psql(
        pg.dbUrl,
        "select count(*) from public.benchmark_transactions where model_version = 'pg17-model'",
      );
      assert.equal(n.stdout.trim(), "1");
      await psql(pg.dbUrl, "select vault.create_secret('pg17-secret', 'pg17_test')");
      const vault = await psql(
        pg.dbUrl,
        "select secret <> 'pg17-secret' and decrypted_secret = 'pg17-secret' " +
          "from vault.decrypted_secrets where name = 'pg17_test'",
      );
      assert.equal(vault.stdout.trim(), "t", "vault's stand-in encrypts and decrypts on 17");
    } finally {
      await pg.stop();
    }
  },
});
