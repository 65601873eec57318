// Written by bench/fit-decision.ts (logistic regression on the tuning split, bench/support-questions.json).
export const FITTED = {
  bias: -0.3451,
  weights: {
    strength: 0.6332,
    margin: 0.3824,
    coverage: 1.3173,
    missing: -1.0675,
    unmet: -0.6755,
    heading: 0.8535,
    intent: 0.3885,
    first: 0.7427,
    yesno: -0.3244,
  },
};
