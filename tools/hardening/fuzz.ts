// Test 5: property-based fuzzing of POST /functions/v1/ingest with fast-check. Bodies are
// generated as raw JSON text (so duplicate keys, 1e999, huge integers and invalid UTF-8 can
// be sent), valid-shaped and hostile. Properties:
//   - no answer is >= 500;
//   - a 2xx stores every run exactly as the shared zod schema (parseIngestBody) parsed it;
//   - a body the schema rejects is answered 4xx, and no 4xx stores anything (the table grows
//     by exactly the runs acknowledged 201).

import fc from "fast-check";
import { parseIngestBody, type Run } from "../../supabase/functions/_shared/schemas.ts";
import { Checks, type Ctx, type HardeningTest, type Outcome } from "./lib.ts";

const CASES = Number(Deno.env.get("BENCHWATCH_HARDENING_FUZZ_CASES") ?? 10_000);
const CONCURRENCY = 24;
const SEED = Number(Deno.env.get("BENCHWATCH_HARDENING_FUZZ_SEED") ?? Date.now() % 2 ** 31);

const ODD = [
  "\u0000",
  "\ud800",
  "\udfff",
  "\ufeff",
  "\u202e",
  "\u200d",
  "𝔘𝔫𝔦",
  "é",
  "e\u0301",
  "🦀",
  "\\",
  '"',
  "\n",
];

const oddString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.array(fc.constantFrom(...ODD), { minLength: 1, maxLength: 4 }).map((a) => a.join("")),
);
const label = fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9.-]{1,12}$/) }, {
  weight: 1,
  arbitrary: oddString,
});
const edgeNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    1e308,
    -1e308,
    1.7976931348623157e308,
    -0,
    0,
    5e-324,
    -5e-324,
    2 ** 53 + 2,
    -(2 ** 63),
    0.1,
  ),
);
const metricName = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:\-\/]{1,20}$/) },
  { weight: 1, arbitrary: oddString },
);

/** Runs close to valid: every required field, odd but often legal values. */
const validShapedRun = fc.record({
  model_version: label,
  dataset_version: label,
  prompt_version: label,
  model_provider: label,
  commit_sha: label,
  metrics: fc.dictionary(metricName, edgeNumber, { minKeys: 1, maxKeys: 6 }),
  environment: label,
  branch_name: label,
  run_id: label,
  triggered_by: label,
  tags: fc.uniqueArray(label, { maxLength: 4 }),
  notes: oddString,
  dataset_size: fc.oneof(fc.integer({ min: 1, max: 2_147_483_647 }), edgeNumber),
  duration_seconds: fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), edgeNumber),
  created_at: fc.oneof(
    fc.date({
      min: new Date("1970-01-01"),
      max: new Date(Date.now() - 60_000),
      noInvalidDate: true,
    })
      .map((d) => d.toISOString()),
    fc.constantFrom(
      "2026-11-28T10:00:00+05:30",
      "2026-13-01T00:00:00Z",
      "yesterday",
      "9999-12-31T23:59:59Z",
    ),
  ),
}, {
  requiredKeys: [
    "model_version",
    "dataset_version",
    "prompt_version",
    "model_provider",
    "commit_sha",
    "metrics",
  ],
});

/** Runs the schema accepts: plain values, every optional field sometimes. */
const cleanLabel = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,30}$/);
const validRun = fc.record({
  model_version: cleanLabel,
  dataset_version: cleanLabel,
  prompt_version: cleanLabel,
  model_provider: cleanLabel,
  commit_sha: fc.stringMatching(/^[0-9a-f]{7,40}$/),
  metrics: fc.dictionary(
    fc.stringMatching(/^[A-Za-z0-9_.:\-\/]{1,20}$/),
    fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(1e308, -0, 5e-324, 2 ** 53 + 2),
    ),
    { minKeys: 1, maxKeys: 8 },
  ),
  environment: cleanLabel,
  branch_name: cleanLabel,
  run_id: cleanLabel,
  triggered_by: cleanLabel,
  tags: fc.uniqueArray(fc.stringMatching(/^[a-z0-9-]{1,20}$/), { maxLength: 5 }),
  notes: fc.string({ unit: "grapheme", maxLength: 200 }),
  dataset_size: fc.integer({ min: 1, max: 2_147_483_647 }),
  duration_seconds: fc.oneof(
    fc.double({ min: 0, max: 1e308, noNaN: true }),
    fc.constantFrom(0, 5e-324, 1e308),
  ),
  created_at: fc.date({
    min: new Date("2000-01-01"),
    max: new Date(Date.now() - 60_000),
    noInvalidDate: true,
  })
    .map((d) => d.toISOString()),
}, {
  requiredKeys: [
    "model_version",
    "dataset_version",
    "prompt_version",
    "model_provider",
    "commit_sha",
    "metrics",
  ],
});

let serial = 0;
/** A unique model prefix per body, so no two cases share a series or an identity. */
const tagged = (r: Record<string, unknown>) => ({
  ...r,
  model_version: `fz${serial++}-${typeof r.model_version === "string" ? r.model_version : ""}`,
});

const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);

/** Bodies as they go on the wire: text, or bytes for invalid UTF-8. */
const body: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 10, arbitrary: validRun.map((r) => JSON.stringify(tagged(r))) },
  { weight: 8, arbitrary: validShapedRun.map((r) => JSON.stringify(tagged(r))) },
  {
    weight: 3,
    arbitrary: fc.array(fc.oneof(validRun, validShapedRun), { minLength: 1, maxLength: 3 }).map((
      runs,
    ) => JSON.stringify({ runs: runs.map(tagged) })),
  },
  // Duplicate keys, written as raw JSON text: the last one wins, as in JSON.parse.
  {
    weight: 2,
    arbitrary: fc.tuple(
      validShapedRun,
      label,
      fc.constantFrom("model_version", "metrics", "commit_sha"),
    )
      .map(([r, v, k]) => {
        const text = JSON.stringify(tagged(r));
        const dup = k === "metrics" ? `{"f1": 0.5}` : JSON.stringify(`fz${serial++}-${v}`);
        return `{"${k}": ${dup}, ${text.slice(1)}`;
      }),
  },
  // Numbers at the edges, written as raw JSON text.
  {
    weight: 2,
    arbitrary: fc.tuple(
      validShapedRun,
      fc.constantFrom(
        "1e999",
        "-1e999",
        "1e308",
        "-0",
        "5e-324",
        "1e-400",
        "123456789012345678901234567890",
        "-9223372036854775809",
        "0.1e1",
        "1E+2",
        "NaN",
        "Infinity",
        "0x10",
        "01",
        "1.",
      ),
      fc.constantFrom("metrics", "dataset_size", "duration_seconds"),
    ).map(([r, num, k]) => {
      const text = JSON.stringify(tagged({ ...r, metrics: { f1: 0.9 } }));
      if (k === "metrics") return text.replace(`"metrics":{"f1":0.9}`, `"metrics":{"f1":${num}}`);
      return `{"${k}": ${num}, ${text.slice(1).replace(new RegExp(`"${k}":[^,}]*,?`), "")}`;
    }),
  },
  // Deep nesting, at the top and inside metrics.
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 200_000 }), fc.boolean()).map(([n, top]) =>
      top ? deep(n, "[", "]") : JSON.stringify(
        tagged({
          model_version: "m",
          dataset_version: "d",
          prompt_version: "p",
          model_provider: "o",
          commit_sha: "c",
          metrics: { f1: 1 },
        }),
      )
        .replace(
          `"metrics":{"f1":1}`,
          `"metrics":{"f1":${'{"a":'.repeat(Math.min(n, 5000))}1${"}".repeat(Math.min(n, 5000))}}`,
        )
    ),
  },
  // Huge strings: over the schema's limits, and over the 1 MiB body limit.
  {
    weight: 1,
    arbitrary: fc.tuple(
      validShapedRun,
      fc.constantFrom(201, 10_001, 300_000, 1_100_000),
      fc.constantFrom("model_version", "notes", "commit_sha"),
    ).map(
      ([r, n, k]) => JSON.stringify(tagged({ ...r, [k]: "x".repeat(n) })),
    ),
  },
  // Anything at all, unknown fields, prototype keys, wrong types.
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      validShapedRun,
      fc.constantFrom("__proto__", "constructor", "extra", "runs", "id", "snapshot_id"),
      fc.jsonValue(),
    )
      .map(([r, k, v]) =>
        JSON.stringify(tagged(r)).replace(/^\{/, `{"${k}": ${JSON.stringify(v) ?? "null"}, `)
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      "{",
      "null",
      '{"runs": []}',
      JSON.stringify({ runs: Array(1001).fill({ model_version: "x" }) }),
      "\ufeff{}",
      '{"a":1,}',
    ),
  },
  // Invalid UTF-8.
  {
    weight: 1,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) =>
      new Uint8Array([
        ...new TextEncoder().encode('{"model_version":"'),
        0xc3,
        0x28,
        ...b,
        0x22,
        0x7d,
      ])
    ),
  },
);

interface Case {
  raw: string | Uint8Array;
  expectRuns: Run[] | null;
  tooLarge: boolean;
}

function expectation(raw: string | Uint8Array): Case {
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
  const tooLarge = bytes.byteLength > 1024 * 1024;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { raw, expectRuns: null, tooLarge };
  }
  const parsed = parseIngestBody(value);
  return { raw, expectRuns: parsed.success ? parsed.runs : null, tooLarge };
}

const sameNumber = (a: unknown, b: unknown) => Number(a) === Number(b); // -0 == 0, as JSON has it

function storedMismatch(run: Run, row: Record<string, unknown>): string | null {
  const texts = [
    "model_version",
    "dataset_version",
    "prompt_version",
    "model_provider",
    "environment",
    "commit_sha",
    "branch_name",
    "run_id",
    "triggered_by",
    "notes",
  ] as const;
  for (const k of texts) {
    if ((run[k] ?? null) !== row[k]) {
      return `${k}: sent ${JSON.stringify(run[k])}, stored ${JSON.stringify(row[k])}`;
    }
  }
  const metrics = row.metrics as Record<string, unknown>;
  const keys = Object.keys(run.metrics).sort();
  if (JSON.stringify(keys) !== JSON.stringify(Object.keys(metrics).sort())) {
    return `metric names: sent ${JSON.stringify(keys)}, stored ${
      JSON.stringify(Object.keys(metrics))
    }`;
  }
  for (const k of keys) {
    if (!sameNumber(run.metrics[k], metrics[k])) {
      return `metrics.${k}: sent ${run.metrics[k]}, stored ${metrics[k]}`;
    }
  }
  // No tags is stored as the column's default, an empty array.
  if (JSON.stringify(run.tags ?? []) !== JSON.stringify(row.tags ?? [])) {
    return `tags: sent ${JSON.stringify(run.tags)}, stored ${JSON.stringify(row.tags)}`;
  }
  if ((run.dataset_size ?? null) !== (row.dataset_size ?? null)) {
    return `dataset_size: ${run.dataset_size} vs ${row.dataset_size}`;
  }
  if (
    (run.duration_seconds === undefined) !== (row.duration_seconds === null) ||
    (run.duration_seconds !== undefined && !sameNumber(run.duration_seconds, row.duration_seconds))
  ) {
    return `duration_seconds: sent ${run.duration_seconds}, stored ${row.duration_seconds}`;
  }
  if (run.created_at && Date.parse(run.created_at) !== (row.created_at as Date).getTime()) {
    return `created_at: sent ${run.created_at}, stored ${(row.created_at as Date).toISOString()}`;
  }
  return null;
}

async function send(ctx: Ctx, c: Case): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${ctx.stack.cfg.apiUrl}/functions/v1/ingest`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${ctx.stack.keys.serviceRoleKey}`,
      "content-type": "application/json",
    },
    body: c.raw as string | Uint8Array<ArrayBuffer>,
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

export const fuzzIngest: HardeningTest = {
  name: "fuzz",
  title: `fast-check fuzzing of POST /functions/v1/ingest (${CASES} bodies, seed ${SEED})`,
  async run(ctx): Promise<Outcome> {
    const checks = new Checks();
    const cases = fc.sample(body, { numRuns: CASES, seed: SEED }).map(expectation);
    const [before] = await ctx.sql`select count(*)::int as n from public.benchmark_transactions`;
    const statuses = new Map<number, number>();
    const codes = new Map<string, number>();
    const stored: { run: Run; id: string }[] = [];
    const examples: string[] = [];
    const refusedBy = new Map<string, number>();
    let fiveHundreds = 0, acceptedInvalid = 0, validRejected = 0, replayed = 0;
    const t0 = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++];
        let res: { status: number; body: unknown };
        try {
          res = await send(ctx, c);
        } catch (e) {
          res = { status: 599, body: `no answer: ${(e as Error).message}` };
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        // deno-lint-ignore no-explicit-any
        const b = res.body as any;
        if (res.status >= 400 && b?.error) codes.set(b.error, (codes.get(b.error) ?? 0) + 1);
        const show = () =>
          `${res.status} ${JSON.stringify(b).slice(0, 200)} for ${
            typeof c.raw === "string" ? JSON.stringify(c.raw.slice(0, 200)) : "bytes"
          }`;
        if (res.status >= 500) {
          fiveHundreds++;
          if (examples.length < 5) examples.push(show());
        } else if (res.status >= 200 && res.status < 300) {
          if (!c.expectRuns || c.tooLarge) {
            acceptedInvalid++;
            if (examples.length < 5) examples.push(`accepted an invalid body: ${show()}`);
            continue;
          }
          const answers = "runs" in b && Array.isArray(b.runs) ? b.runs : [b];
          answers.forEach((a: { transaction_id: string; replayed: boolean }, i: number) => {
            if (a.replayed) replayed++;
            else stored.push({ run: c.expectRuns![i], id: a.transaction_id });
          });
        } else if (c.expectRuns && !c.tooLarge) {
          validRejected++;
          const why = `${b?.error} ${b?.details?.sqlstate ?? ""}`.trim();
          refusedBy.set(why, (refusedBy.get(why) ?? 0) + 1);
        }
      }
    };
    await Promise.all([...Array(CONCURRENCY).keys()].map(worker));
    const seconds = (Date.now() - t0) / 1000;

    const [after] = await ctx.sql`select count(*)::int as n from public.benchmark_transactions`;
    let mismatches = 0;
    for (let i = 0; i < stored.length; i += 500) {
      const chunk = stored.slice(i, i + 500);
      const rows = await ctx.sql`
        select * from public.benchmark_transactions where id = any(${
        chunk.map((s) => s.id)
      }::uuid[])`;
      const byId = new Map(rows.map((r) => [r.id as string, r]));
      for (const s of chunk) {
        const row = byId.get(s.id);
        const why = row ? storedMismatch(s.run, row) : "not stored";
        if (why) {
          mismatches++;
          if (examples.length < 10) examples.push(`stored ≠ validated: ${why}`);
        }
      }
    }
    const unacknowledged = after.n - before.n - stored.length;
    checks.that(cases.length >= 10_000 || CASES < 10_000, `only ${cases.length} cases`);
    checks.that(fiveHundreds === 0, `${fiveHundreds} answers >= 500`);
    checks.that(acceptedInvalid === 0, `${acceptedInvalid} bodies the schema rejects were stored`);
    checks.that(mismatches === 0, `${mismatches} stored runs differ from the validated body`);
    checks.that(unacknowledged === 0, `${unacknowledged} rows stored by requests not answered 201`);
    for (const e of examples) console.log(`    example: ${e}`);
    const valid = cases.filter((c) => c.expectRuns && !c.tooLarge).length;
    return {
      failures: checks.failures,
      figures: {
        "bodies sent": cases.length,
        "seed": SEED,
        "valid per the schema / hostile or invalid": `${valid} / ${cases.length - valid}`,
        "throughput": `${
          (cases.length / seconds).toFixed(0)
        } bodies/s at concurrency ${CONCURRENCY}`,
        "answers by status": [...statuses].sort().map(([s, n]) => `${s}: ${n}`).join(", "),
        "4xx by error code": [...codes].sort().map(([s, n]) => `${s}: ${n}`).join(", "),
        "answers >= 500": fiveHundreds,
        "runs stored (2xx) and checked field by field": stored.length,
        "replays answered from the first request": replayed,
        "stored runs differing from the validated body": mismatches,
        "schema-valid runs the database refused (4xx)": `${validRejected} (${
          [...refusedBy].map(([k, n]) => `${k}: ${n}`).join(", ")
        }: NUL and lone surrogates, which PostgreSQL text cannot hold)`,
        "rows stored by a 4xx": unacknowledged,
      },
    };
  },
};
