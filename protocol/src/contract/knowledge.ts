// Knowledge sources, crawl jobs, search, embeddings, usage.
import { operations } from './operation.js';

export const knowledgeOperations = operations([]);
