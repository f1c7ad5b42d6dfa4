/**
 * The function's error hierarchy. Each error carries the HTTP status it maps to; only the handler turns errors
 * into responses, and it shows the message to the client only when the status is below 500.
 */
export abstract class PredictError extends Error {
  abstract readonly status: number;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is malformed or does not fit the model (400). */
export class InvalidRequestError extends PredictError {
  readonly status = 400;
}

/** No route matches the path (404). */
export class RouteNotFoundError extends PredictError {
  readonly status = 404;
}

/** The route exists but not for this method (405); `allow` feeds the Allow header. */
export class MethodNotAllowedError extends PredictError {
  readonly status = 405;

  constructor(
    message: string,
    readonly allow: readonly string[],
  ) {
    super(message);
  }
}

/** Too many rows, or a body over Lambda's synchronous payload limit (413). */
export class PayloadTooLargeError extends PredictError {
  readonly status = 413;
}

/** The model could not be loaded at init; every prediction answers 503 until a new container starts. */
export class ModelUnavailableError extends PredictError {
  readonly status = 503;
}

/** A bad or missing environment variable, found when the configuration is parsed at cold start. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** A model bundle that cannot be served: bad manifest, or a manifest that disagrees with its ONNX file. */
export class ModelBundleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ModelBundleError';
  }
}

/** The model artifact could not be fetched or failed its checksum. */
export class ModelSourceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ModelSourceError';
  }
}

/** A short, path-free description of any thrown value, for logs. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
