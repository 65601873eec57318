// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -2.6254,
  weights: {
    strength: 2.3686,
    margin: 1.2082,
    coverage: 2.3317,
    missing: -0.3069,
    unmet: -1.5326,
    heading: 2.4466,
    intent: 0.8201,
    first: 0.7587,
    yesno: -0.8016,
  },
};
