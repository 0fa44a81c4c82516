// Test 7: secret hygiene. Every log this run produced (the stack's gateway and PostgreSQL
// logs, the CLI outputs captured by the load tests) is scanned for every key, token and
// secret in use, and so is a data dump of the database (only the vault may hold the
// webhook secret). Stored ingest tokens are SHA-256 hashes only. validateSlackUrl, the
// SSRF guard on the Slack URL, rejects every other host.

import { validateSlackUrl } from "../../supabase/functions/_shared/slack.ts";
import { Checks, type HardeningTest, type Outcome } from "./lib.ts";

async function logFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory && e.name !== "data") await walk(p);
      else if (e.isFile && /\.log$/.test(e.name)) out.push(p);
    }
  };
  await walk(dir);
  // The PostgreSQL log sits beside its data directory, possibly behind a link.
  out.push(`${await Deno.realPath(`${dir}/db`)}/postgres.log`);
  return out;
}

async function useFreshToken(ctx: Parameters<HardeningTest["run"]>[0], checks: Checks) {
  const api = `${ctx.stack.cfg.apiUrl}/functions/v1`;
  const created = await fetch(`${api}/ingest/tokens`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${ctx.stack.keys.serviceRoleKey}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ name: "secrets case" }),
  });
  const body = await created.json();
  checks.that(created.status === 201, `creating an ingest token: ${created.status}`);
  if (created.status !== 201) return;
  ctx.secrets.set("ingest token (secrets case)", body.token);
  const pushed = await fetch(`${api}/ingest`, {
    method: "POST",
    headers: { authorization: `Bearer ${body.token}`, "content-type": "application/json" },
    body: JSON.stringify({
      model_version: `secrets-${crypto.randomUUID().slice(0, 8)}`,
      dataset_version: "secrets",
      prompt_version: "v1",
      model_provider: "hardening",
      commit_sha: "0000000",
      metrics: { accuracy: 0.9 },
    }),
  });
  await pushed.body?.cancel();
  checks.that(pushed.status === 201, `a run recorded with that token: ${pushed.status}`);
}

export const secretHygiene: HardeningTest = {
  name: "secrets",
  title:
    "Secret hygiene: logs scanned for every secret in use; tokens stored hashed; Slack URL allow-list",
  async run(ctx): Promise<Outcome> {
    const checks = new Checks();
    // Run alone (`--only secrets`), no earlier case has created a token: create one over HTTP
    // and record a run with it, so there is a token in the logs' path to look for.
    if (![...ctx.secrets.keys()].some((n) => n.includes("token"))) {
      await useFreshToken(ctx, checks);
    }
    const files = await logFiles(ctx.stack.cfg.dir);
    let bytes = 0;
    const hits: string[] = [];
    for (const f of files) {
      let text = "";
      try {
        text = await Deno.readTextFile(f);
      } catch {
        continue;
      }
      bytes += text.length;
      for (const [name, secret] of ctx.secrets) {
        if (secret && text.includes(secret)) {
          hits.push(`${name} in ${f.replace(ctx.stack.cfg.dir + "/", "")}`);
        }
      }
    }
    checks.that(hits.length === 0, `secrets found in logs: ${hits.join("; ")}`);

    // The database, as a dump would show it: nothing but hashes of the tokens.
    const dump = await new Deno.Command("pg_dump", {
      args: ["--data-only", "--exclude-schema=vault", ctx.stack.env.SUPABASE_DB_URL],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dumpText = new TextDecoder().decode(dump.stdout);
    checks.that(dump.code === 0, `pg_dump failed: ${new TextDecoder().decode(dump.stderr)}`);
    const dumpHits = [...ctx.secrets].filter(([, s]) => dumpText.includes(s)).map(([n]) => n);
    checks.that(dumpHits.length === 0, `secrets in a data dump: ${dumpHits.join(", ")}`);
    const tokens = await ctx.sql<{ token_hash: string; token_prefix: string }[]>`
      select token_hash, token_prefix from benchwatch_private.ingest_tokens`;
    const notHashes = tokens.filter((t) => !/^[0-9a-f]{64}$/.test(t.token_hash)).length;
    checks.that(tokens.length > 0, "no ingest tokens were created");
    checks.that(notHashes === 0, `${notHashes} stored tokens are not SHA-256 hashes`);
    const tokenSecrets = [...ctx.secrets].filter(([n]) => n.includes("token")).map(([, s]) => s);
    const hashed = await Promise.all(
      tokenSecrets.map(async (t) =>
        new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(t))).toHex()
      ),
    );
    const matched = hashed.filter((h) => tokens.some((t) => t.token_hash === h)).length;
    checks.that(
      matched === tokenSecrets.length,
      `${tokenSecrets.length - matched} tokens have no stored hash`,
    );

    const sink = `http://127.0.0.1:${ctx.stack.cfg.slackSinkPort}`;
    const allowed = [
      "https://hooks.slack.com/services/T000/B000/XXXX",
      `${sink}/services/local/sink`,
    ];
    const rejected = [
      "http://hooks.slack.com/services/T000/B000/XXXX",
      "https://hooks.slack.com.evil.example/services/x",
      "https://evil.example/hooks.slack.com/services/x",
      "https://hooks.slack.com:8443/services/x",
      "https://user:pass@hooks.slack.com/services/x",
      "https://169.254.169.254/latest/meta-data/",
      "http://127.0.0.1:5432/",
      `http://127.0.0.1:${ctx.stack.cfg.dbPort}/`,
      "http://localhost:54321/functions/v1/ingest",
      "https://[::1]/services/x",
      "file:///etc/passwd",
      "gopher://hooks.slack.com/x",
      "https://xn--hooks-slack-com.example/x",
      "https://HOOKS.SLACK.COM.evil.example/x",
      "not a url",
    ];
    const opts = { allowedTestSink: sink };
    const wrongAllowed = allowed.filter((u) => !validateSlackUrl(u, opts).ok);
    const wrongRejected = rejected.filter((u) => validateSlackUrl(u, opts).ok);
    checks.that(wrongAllowed.length === 0, `allow-list refused ${wrongAllowed.join(", ")}`);
    checks.that(wrongRejected.length === 0, `allow-list accepted ${wrongRejected.join(", ")}`);
    return {
      failures: checks.failures,
      figures: {
        "secrets looked for": `${ctx.secrets.size} (${[...ctx.secrets.keys()].join(", ")})`,
        "log files scanned": `${files.length} (${(bytes / 1024).toFixed(0)} KiB)`,
        "hits in logs": hits.length,
        "hits in a data dump (vault excluded)": dumpHits.length,
        "stored ingest tokens / SHA-256 hashes only": `${tokens.length} / ${
          tokens.length - notHashes
        }`,
        "Slack URLs allowed / other hosts and schemes rejected": `${
          allowed.length - wrongAllowed.length
        } of ${allowed.length} / ${rejected.length - wrongRejected.length} of ${rejected.length}`,
      },
    };
  },
};
