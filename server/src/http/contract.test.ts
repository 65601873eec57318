// The router table and the contract are the same list: a route the server registers that protocol does
// not describe fails here, and so does an operation no route serves.
import { OPERATIONS } from '@parley/protocol/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { servedRoutes } from './router-table.js';

describe('the contract lists exactly the routes the server serves', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('every registered route is an operation, and every operation a registered route', () => {
    const served = new Set(servedRoutes(t.app).map((r) => `${r.method.toUpperCase()} ${r.path}`));
    const listed = new Set(OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path}`));
    expect([...served].filter((r) => !listed.has(r)).sort(), 'served but not in protocol/src/contract').toEqual([]);
    expect([...listed].filter((r) => !served.has(r)).sort(), 'in protocol/src/contract but not served').toEqual([]);
  });

  it('operation ids are unique', () => {
    const ids = OPERATIONS.map((op) => op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});
