// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -1.9549,
  weights: {
    strength: 3.5757,
    margin: 1.4617,
    coverage: 3.1329,
    missing: -1.1644,
    unmet: -2.7837,
    heading: 3.2738,
    intent: 2.3729,
    first: 0.0621,
    yesno: -1.3659,
  },
};
