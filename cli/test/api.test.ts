// The retry budget's pure parts: --retry-for durations and Retry-After headers.

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDuration, retryAfterMs } from "../src/api.ts";

test("parseDuration reads 90s, 2m, 1m30s, 500ms and bare seconds, and refuses the rest", () => {
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("45"), 45_000);
  assert.equal(parseDuration("0s"), 0);
  for (const bad of ["", "soon", "5 minutes", "-1s", "1d"]) {
    assert.equal(parseDuration(bad), null, bad);
  }
});

test("retryAfterMs reads delta-seconds and HTTP dates", () => {
  const now = Date.parse("2026-12-01T00:00:00Z");
  assert.equal(retryAfterMs("7", now), 7000);
  assert.equal(retryAfterMs("Tue, 01 Dec 2026 00:00:30 GMT", now), 30_000);
  assert.equal(retryAfterMs(null, now), undefined);
  assert.equal(retryAfterMs("later", now), undefined);
});
