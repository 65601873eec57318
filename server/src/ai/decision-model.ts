// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -2.0182,
  weights: {
    strength: 4.5,
    margin: 1.0666,
    coverage: 3.2448,
    missing: -1.2424,
    unmet: -2.8368,
    heading: 3.8384,
    intent: 1.7422,
    first: 0.008,
    yesno: -1.7255,
  },
};
