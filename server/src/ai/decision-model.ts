// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -2.072,
  weights: {
    strength: 4.5539,
    margin: 1.0848,
    coverage: 3.1771,
    missing: -1.2277,
    unmet: -2.7921,
    heading: 3.838,
    intent: 1.7457,
    first: 0.0082,
    yesno: -1.7061,
  },
};
