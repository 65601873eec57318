// Written by bench/fit-decision.ts (logistic regression on the tuned-on splits, bench/support-questions.json and bench/support-dev.json).
export const FITTED = {
  bias: -0.8641,
  weights: {
    strength: 2.2051,
    margin: 0.9842,
    coverage: 2.1419,
    missing: -1.3265,
    unmet: -1.7187,
    heading: 2.8244,
    intent: 0.2928,
    first: 0.1603,
    yesno: -1.255,
  },
};
