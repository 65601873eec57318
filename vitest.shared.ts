// Shared Vitest settings: resolve workspace packages to their TypeScript sources (the "parley-source" export
// condition) so tests never depend on a previous build. On the server side only Node's own conditions
// follow, so dependencies load the files Node itself would load.
import { defaultClientConditions } from 'vite';

export const shared = {
  resolve: { conditions: ['parley-source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['parley-source', 'node'] } },
};
