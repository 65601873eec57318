// The lazily loaded parts, by name. Here they are their modules (the tests import them); the build puts
// each part's content-hashed file name in their place (build.mjs), which lazy.ts loads by script.
export const PARTS = {
  actions: () => import('./actions.js'),
  rating: () => import('./rating.js'),
  away: () => import('./away.js'),
};
export type Parts = { [K in keyof typeof PARTS]: Awaited<ReturnType<(typeof PARTS)[K]>> };
