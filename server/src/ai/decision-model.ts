// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -0.8575,
  weights: {
    strength: 2.2075,
    margin: 0.9777,
    coverage: 2.1411,
    missing: -1.3314,
    unmet: -1.7219,
    heading: 2.8249,
    intent: 0.2861,
    first: 0.16,
    yesno: -1.2558,
  },
};
