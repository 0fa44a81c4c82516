import assert from "node:assert/strict";
import { parseAlertEventGroup } from "./alert-events.ts";
import { guidePairedEvidence } from "./testdata.ts";

// A regressed group as claim_alert_events returns it (pgTAP 26-paired-alert-events).
const group = () => ({
  kind: "regressed",
  transaction_id: "0b7a3c1e-2f4d-4e5a-9c8b-1d2e3f4a5b6c",
  series: {
    model_version: "test-v1.0",
    model_provider: "openai",
    dataset_version: "test-set-v1",
    prompt_version: "test-prompt-v1",
    environment: "local",
  },
  baseline_model_version: "test-v1.0",
  commit_sha: "abc124",
  branch_name: null,
  run_id: null,
  created_at: "2026-12-02T05:15:47.123+00:00",
  alert_ids: ["5f0c3a52-7d8e-4b1a-a0c4-9e2f1d3b6a7c", "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"],
  metrics: [
    {
      metric: "f1",
      direction: "higher_is_better",
      baseline: 0.895,
      current: 0.845,
      relative_change: -0.055866,
      severity: "minor",
      paired: structuredClone(guidePairedEvidence),
    },
    {
      metric: "precision",
      direction: "higher_is_better",
      baseline: 0.91,
      current: 0.85,
      relative_change: -0.065934,
      severity: "minor",
    },
  ],
});

Deno.test("parseAlertEventGroup() accepts a group with and without paired evidence", () => {
  const parsed = parseAlertEventGroup(group());
  assert.ok(parsed.ok);
  assert.equal(parsed.group.metrics[0].paired?.worst_slice?.slice, "invoices");
  assert.equal(parsed.group.metrics[1].paired, undefined);
});

Deno.test("parseAlertEventGroup() ignores a key the SQL adds later", () => {
  const g = { ...group(), future_key: 1 };
  assert.ok(parseAlertEventGroup(g).ok);
});

Deno.test("parseAlertEventGroup() names a malformed paired field and keeps the alert ids", () => {
  const cases: [string, (g: ReturnType<typeof group>) => void, RegExp][] = [
    ["q as text", (g) => {
      (g.metrics[0].paired as Record<string, unknown>).q_value = "0.03";
    }, /\/metrics\/0\/paired\/q_value: .*number/],
    ["p above 1", (g) => {
      g.metrics[0].paired!.p_value = 1.5;
    }, /\/metrics\/0\/paired\/p_value/],
    ["counts over n_both", (g) => {
      g.metrics[0].paired!.worst_slice!.worse = 61;
    }, /\/metrics\/0\/paired\/worst_slice: worse \+ better must not exceed n_both/],
    ["a slice without its name", (g) => {
      delete (g.metrics[0].paired!.worst_slice as Partial<{ slice: string }>).slice;
    }, /\/metrics\/0\/paired\/worst_slice\/slice/],
    ["an unknown paired key", (g) => {
      (g.metrics[0].paired as Record<string, unknown>).mean = 1;
    }, /\/metrics\/0\/paired\/mean: Remove unknown field "mean"/],
  ];
  for (const [name, mutate, reason] of cases) {
    const g = group();
    mutate(g);
    const parsed = parseAlertEventGroup(g);
    assert.ok(!parsed.ok, `${name} is refused`);
    assert.match(parsed.reason, /^Deploy notify-slack and the migrations together: /, name);
    assert.match(parsed.reason, reason, name);
    assert.deepEqual(parsed.key, { kind: "regressed", alert_ids: group().alert_ids }, name);
  }
});

Deno.test("parseAlertEventGroup() gives no key when the alert ids themselves are malformed", () => {
  const parsed = parseAlertEventGroup({ ...group(), alert_ids: "not a list" });
  assert.ok(!parsed.ok);
  assert.equal(parsed.key, null);
  assert.match(parsed.reason, /\/alert_ids/);
});
