// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -2.0967,
  weights: {
    strength: 4.5811,
    margin: 1.1307,
    coverage: 3.1652,
    missing: -1.2563,
    unmet: -2.793,
    heading: 3.8131,
    intent: 1.7547,
    first: 0.0079,
    yesno: -1.6925,
  },
};
