// The routes an Express app serves, as (method, OpenAPI path) pairs, read from its router stack: what the
// contract test compares with protocol's operations table.
import type { Express } from 'express';

interface Layer {
  route?: { path: string | RegExp; methods: Record<string, boolean>; openApiPaths?: string[] };
  handle?: { stack?: Layer[] };
  rawPath?: string | RegExp;
}

export interface ServedRoute {
  method: string;
  path: string;
}

const openApiPath = (p: string) => p.replace(/:(\w+)/g, '{$1}');

export function servedRoutes(app: Express): ServedRoute[] {
  const out: ServedRoute[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of layer.route.openApiPaths ?? [String(layer.route.path)]) {
          for (const method of Object.keys(layer.route.methods)) if (method !== '_all') out.push({ method, path: openApiPath(prefix + path) });
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}
