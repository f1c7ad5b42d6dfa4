import { MethodNotAllowedError, RouteNotFoundError } from './errors.js';

/** The function's routes; `name` is the route template, as metrics and logs show it. */
export type Route =
  | { readonly name: 'POST /predict' }
  | { readonly name: 'GET /v2/health/live' }
  | { readonly name: 'GET /v2/health/ready' }
  | { readonly name: 'GET /v2' }
  | { readonly name: 'GET /v2/models/{model}'; readonly model: string; readonly version: string | undefined }
  | { readonly name: 'GET /v2/models/{model}/ready'; readonly model: string; readonly version: string | undefined }
  | { readonly name: 'POST /v2/models/{model}/infer'; readonly model: string; readonly version: string | undefined };

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;

function only<T>(method: string, allowed: string, path: string, route: T): T {
  if (method === allowed) return route;
  throw new MethodNotAllowedError(`${method} is not allowed on ${path}; use ${allowed}`, [allowed]);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Maps a method and path to a route: 404 for an unknown path, 405 (with the allowed method) for a wrong method. */
export function resolveRoute(method: string, path: string): Route {
  switch (path) {
    case '/predict':
      return only(method, 'POST', path, { name: 'POST /predict' });
    case '/v2/health/live':
      return only(method, 'GET', path, { name: 'GET /v2/health/live' });
    case '/v2/health/ready':
      return only(method, 'GET', path, { name: 'GET /v2/health/ready' });
    case '/v2':
      return only(method, 'GET', path, { name: 'GET /v2' });
  }
  const match = MODEL_PATH.exec(path);
  if (match !== null) {
    const model = decode(match[1]!);
    const version = match[2] === undefined ? undefined : decode(match[2]);
    if (match[3] === '/infer') return only(method, 'POST', path, { name: 'POST /v2/models/{model}/infer', model, version });
    if (match[3] === '/ready') return only(method, 'GET', path, { name: 'GET /v2/models/{model}/ready', model, version });
    return only(method, 'GET', path, { name: 'GET /v2/models/{model}', model, version });
  }
  const shown = path.length > 100 ? `${path.slice(0, 100)}...` : path;
  throw new RouteNotFoundError(`no route for ${JSON.stringify(shown)}; the function serves POST /predict and the Open Inference Protocol v2 routes under /v2`);
}
