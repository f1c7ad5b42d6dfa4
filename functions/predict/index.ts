/**
 * The Lambda entry point (`index.handler`). Configuration is parsed and the model loaded at module scope, once per
 * container, and the module waits for it (top-level await): the load runs in Lambda's init phase, with the init
 * phase's CPU, before the first request, and provisioned concurrency gets a loaded model. A model that cannot load
 * does not fail the init (which Lambda would retry on every request): the handler answers 503 and logs why.
 */
import { createHandler, type Handler } from './app.js';
import { loadConfig } from './config.js';

const loading = createHandler(() => loadConfig(process.env));
await loading.ready;

export const handler: Handler = loading;
