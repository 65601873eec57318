// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -1.4658,
  weights: {
    strength: 3.9657,
    margin: 0.9773,
    coverage: 2.9778,
    missing: -1.0698,
    unmet: -3.3381,
    heading: 3.8268,
    intent: 1.8624,
    first: 0.053,
    yesno: -1.7282,
  },
};
