// Test data the _shared tests share. No function imports it, so it is never deployed.

/**
 * The paired evidence of the guide's 200 examples with 12 flipped to wrong and 2 to right,
 * 9 and 1 of them invoices, as claim_alert_events returns it (pgTAP 26-paired-alert-events
 * works out the p- and q-values).
 */
export const guidePairedEvidence = {
  n_both: 200,
  worse: 12,
  better: 2,
  p_value: 0.012939453125,
  q_value: 0.021484375,
  worst_slice: {
    slice: "invoices",
    n_both: 60,
    worse: 9,
    better: 1,
    p_value: 0.021484375,
    q_value: 0.021484375,
  },
};
