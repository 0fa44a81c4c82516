// GET /functions/v1/benchmarks: the dashboard's read API, with any project key (publishable
// or anon, in practice).
//   ?view=snapshot (default)  latest run per series with deltas against its baseline
//   ?view=trend&<series>&metric=f1[&from&to&max_points]  one metric over time, raw or daily
//   ?view=stability[&window_days=30&<filters>]            per environment: runs, CV, regression rate
//   ?view=filters | series | tags                         what the sidebar offers
//   ?view=run&transaction_id=<uuid>                       one run's recorded verdict
//   ?view=examples&transaction_id=<uuid>[&metric&slice&change&limit&offset]
//                                                         its paired comparison, flipped examples
// Each view is one SQL call returning JSON; where the answer is the document as it is,
// its text is sent without parsing it here.

import { BenchmarksQuerySchema, queryObject } from "../_shared/api-schemas.ts";
import { type ProjectKeys, requireProjectKey } from "../_shared/auth.ts";
import type { Sql } from "../_shared/db.ts";
import { json, jsonText, preflight, problem } from "../_shared/http.ts";
import { formatZodIssues } from "../_shared/schemas.ts";
import { sqlProblem } from "../_shared/sql-errors.ts";

export interface BenchmarksDeps extends ProjectKeys {
  sql: Sql;
}

export function createBenchmarksHandler(deps: BenchmarksDeps): (req: Request) => Promise<Response> {
  const { sql } = deps;
  return async (req: Request): Promise<Response> => {
    const pre = preflight(req);
    if (pre) return pre;
    const caller = requireProjectKey(req, deps);
    if (caller instanceof Response) {
      await req.body?.cancel();
      return caller;
    }
    if (req.method !== "GET") {
      await req.body?.cancel();
      return problem(405, "method_not_allowed", "Use GET: benchmarks is read-only", undefined, {
        allow: "GET, OPTIONS",
      });
    }
    const params = queryObject(new URL(req.url).searchParams);
    const parsed = BenchmarksQuerySchema.safeParse({ view: "snapshot", ...params });
    if (!parsed.success) {
      return problem(400, "invalid_query", "Fix the query string", {
        issues: formatZodIssues(parsed.error),
      });
    }
    const q = parsed.data;
    try {
      switch (q.view) {
        case "snapshot": {
          const { view: _view, ...filters } = q;
          // Built as json by PostgreSQL and sent as its text: a page of 100 series is
          // ~190 kB, not worth parsing and serialising again here.
          const [r] = await sql`select benchwatch_private.current_snapshot_json(${
            sql.json(filters)
          })::text as v`;
          return jsonText(200, r.v);
        }
        case "trend": {
          const series = {
            model_version: q.model_version,
            model_provider: q.model_provider,
            dataset_version: q.dataset_version,
            prompt_version: q.prompt_version,
            environment: q.environment,
          };
          const [r] = await sql`
            select benchwatch_private.metric_trend(${sql.json(series)}, ${q.metric},
              ${q.from ?? null}::timestamptz, ${q.to ?? null}::timestamptz,
              ${q.max_points ?? 2000})::text as v`;
          return jsonText(200, r.v);
        }
        case "stability": {
          const { view: _view, window_days, ...filters } = q;
          const [r] = await sql`
            select benchwatch_private.stability(${sql.json(filters)}, ${
            window_days ?? 30
          })::text as v`;
          return jsonText(200, r.v);
        }
        case "filters": {
          const [r] = await sql`select benchwatch_private.filter_values()::text as v`;
          return jsonText(200, r.v);
        }
        case "tags": {
          const [r] = await sql`select benchwatch_private.filter_values() -> 'tags' as v`;
          return json(200, { tags: r.v });
        }
        case "series": {
          const [r] = await sql`select benchwatch_private.series_list() as v`;
          return json(200, { series: r.v });
        }
        case "run": {
          const [r] = await sql`
            select benchwatch_private.run_verdicts(${q.transaction_id}::uuid, null) as v`;
          const v = r.v as { verdict: string; runs: unknown[] };
          if (v.verdict === "not_found") {
            return problem(404, "run_not_found", `No run has transaction id ${q.transaction_id}`);
          }
          return json(200, v.runs[0]);
        }
        case "examples": {
          const { view: _view, transaction_id, ...filters } = q;
          const [r] = await sql`
            select benchwatch_private.run_examples_json(${transaction_id}::uuid, ${
            sql.json(filters)
          })::text as v`;
          if (r.v === null) {
            return problem(404, "run_not_found", `No run has transaction id ${transaction_id}`);
          }
          return jsonText(200, r.v);
        }
      }
    } catch (e) {
      return sqlProblem(e, `benchmarks ${q.view}`);
    }
  };
}
