// sqlProblem(): stable SQLSTATEs map to their 4xx, an unavailable database to a retryable
// 503 with Retry-After, and anything else to a 500 that names no internals.

import assert from "node:assert/strict";
import { sqlProblem } from "./sql-errors.ts";

Deno.test("sqlProblem() answers a refused connection with 503 database_unreachable and Retry-After", async () => {
  for (const code of ["ECONNREFUSED", "CONNECTION_CLOSED", "57P01", "57P03", "08006"]) {
    const res = sqlProblem({ code, message: "boom" }, "test");
    assert.equal(res.status, 503, code);
    assert.equal(res.headers.get("retry-after"), "1", code);
    assert.equal((await res.json()).error, "database_unreachable", code);
  }
});

Deno.test("sqlProblem() keeps BW009 a 422 and an unknown error a 500", async () => {
  const reused = sqlProblem({ code: "BW009", message: "Cannot record run" }, "test");
  assert.equal(reused.status, 422);
  assert.equal((await reused.json()).error, "idempotency_key_reused");
  const unknown = sqlProblem({ code: "XX000", message: "internal detail" }, "test");
  assert.equal(unknown.status, 500);
  assert.equal(unknown.headers.get("retry-after"), null);
  assert.doesNotMatch(await unknown.text(), /internal detail/);
});
