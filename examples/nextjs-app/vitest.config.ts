import { defineProject } from 'vitest/config';
import { shared } from '../../vitest.shared.js';

// The test runs the production build (`next build` first when there is none) under `next start`.
export default defineProject({
  ...shared,
  test: { name: 'example-nextjs', include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 240_000 },
});
