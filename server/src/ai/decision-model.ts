// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -1.5235,
  weights: {
    strength: 3.9534,
    margin: 0.9916,
    coverage: 3.0461,
    missing: -1.0889,
    unmet: -3.2171,
    heading: 3.802,
    intent: 1.8741,
    first: 0.0555,
    yesno: -1.7244,
  },
};
