// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -1.4793,
  weights: {
    strength: 3.9634,
    margin: 0.9791,
    coverage: 2.9994,
    missing: -1.0645,
    unmet: -3.3265,
    heading: 3.8038,
    intent: 1.8744,
    first: 0.0535,
    yesno: -1.7162,
  },
};
