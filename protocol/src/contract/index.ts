// The whole HTTP API, operation by operation (see operation.ts). A route the server registers and this
// table does not list fails the router-table test; so does an entry no route serves.
import { adminOperations } from './admin.js';
import { knowledgeOperations } from './knowledge.js';
import { lifecycleOperations } from './lifecycle.js';
import { evidenceOperations } from './evidence.js';
import { approvalOperations } from './approvals.js';
import { z } from 'zod';
import { operations, type Operation } from './operation.js';
import { peopleOperations } from './people.js';
import { settingsOperations } from './settings.js';
import { systemOperations } from './system.js';
import { widgetOperations } from './widget.js';
import { workspaceOperations } from './workspace.js';

export * from './operation.js';
export * from './match.js';
export { openApiDocument, type OpenApiOptions } from './openapi.js';
export {
  adminOperations,
  knowledgeOperations,
  lifecycleOperations,
  evidenceOperations,
  approvalOperations,
  peopleOperations,
  settingsOperations,
  systemOperations,
  widgetOperations,
  workspaceOperations,
};

/** The document itself. */
export const contractOperations = operations([
  {
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/v1/openapi.json',
    tag: 'Contract',
    summary: 'This API as an OpenAPI 3.1 document',
    description: 'Generated from the same schemas the server parses requests with. Includes the webhooks Parley sends.',
    security: ['none'],
    responses: {
      200: {
        description: 'The OpenAPI 3.1 document.',
        schema: z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) }),
      },
    },
  },
]);

export const OPERATIONS: readonly Operation[] = [
  ...contractOperations,
  ...systemOperations,
  ...widgetOperations,
  ...peopleOperations,
  ...adminOperations,
  ...settingsOperations,
  ...knowledgeOperations,
  ...workspaceOperations,
  ...lifecycleOperations,
  ...evidenceOperations,
  ...approvalOperations,
];
