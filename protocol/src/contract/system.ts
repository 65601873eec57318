// Health, well-known files, static pages (demo host, console, widget.js), and the audit log (admin and public proofs).
import { operations } from './operation.js';

export const systemOperations = operations([]);
