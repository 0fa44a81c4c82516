import assert from "node:assert/strict";
import { DEFAULT_POOL_SIZE, poolSize } from "./db.ts";

Deno.test("poolSize() is small by default, as Supabase advises for Edge Function isolates", () => {
  assert.equal(poolSize(undefined), DEFAULT_POOL_SIZE);
  assert.equal(poolSize(" "), DEFAULT_POOL_SIZE);
  assert.ok(DEFAULT_POOL_SIZE <= 3);
  assert.equal(poolSize("1"), 1);
  assert.equal(poolSize("20"), 20);
});

Deno.test("poolSize() refuses a value that is not a whole number from 1 to 20", () => {
  for (const bad of ["0", "-1", "2.5", "21", "ten"]) {
    assert.throws(() => poolSize(bad), /Set BENCHWATCH_DB_POOL to a whole number from 1 to 20/);
  }
});
