/**
 * The Lambda entry point (`index.handler`). Configuration is parsed and the model load started at module scope,
 * once per container; the handler itself lives in app.ts so tests can build one per configuration.
 */
import { createHandler, type Handler } from './app.js';
import { loadConfig } from './config.js';

export const handler: Handler = createHandler(() => loadConfig(process.env));
