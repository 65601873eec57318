// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -1.5792,
  weights: {
    strength: 3.9538,
    margin: 1.0508,
    coverage: 3.0836,
    missing: -1.1059,
    unmet: -3.1212,
    heading: 3.8861,
    intent: 1.7999,
    first: 0.0559,
    yesno: -1.7595,
  },
};
