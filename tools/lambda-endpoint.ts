/**
 * A local Lambda API endpoint in front of moto server, for the rollout walk-through and the tests: moto keeps the
 * functions, versions and aliases, but has no provisioned-concurrency (PC) API and cannot invoke a function without
 * Docker. This endpoint answers those two parts itself and passes every other request to moto unchanged, so a client
 * pointed at it (AWS_ENDPOINT_URL_LAMBDA) sees one Lambda API:
 * - Get/Put/DeleteProvisionedConcurrencyConfig: answered from tools/provisioned-concurrency-sim.ts, a SIMULATION of
 *   Lambda's PC rules (refused while the alias has weights; IN_PROGRESS, then READY), which reads the alias from moto.
 *   An UpdateAlias that changes the version of an alias with PC starts the simulation's transient weight, and GetAlias
 *   answers report it, as Lambda does for a while.
 * - Invoke: a SIMULATION of Lambda's Invoke API over AWS's Runtime Interface Emulator (tools/emulator-invoker.ts):
 *   each published version runs the build `builds` names for it under an emulator of its own, started on its first
 *   invocation with the version's environment as moto holds it; an alias is routed by the weights moto holds.
 *   `X-Amz-Log-Type: Tail` returns the invocation's last 4 KB of log, REPORT line included, as Lambda does.
 * Nothing here is deployed or imported by product code.
 */
import { GetAliasCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AliasRef } from '../commands/rollout/lambda-alias.js';
import { LAMBDA_ENV } from '../functions/contract/env.js';
import { invokeResult, pickVersion } from './emulator-invoker.js';
import { hostArch, startFunction, type LambdaUnderTest } from './emulator.js';
import { ProvisionedConcurrencySimulation, WEIGHTS_REFUSAL, type SimulationOptions } from './provisioned-concurrency-sim.js';
import { stageArtifacts, type StagedArtifacts } from './stage-artifacts.js';

/** Which build each version runs: `byVersion` first, else `default`; a version with neither cannot be invoked. */
export interface VersionBuilds {
  readonly default?: string | undefined;
  readonly byVersion?: Readonly<Record<string, string>>;
}

export interface LambdaEndpointOptions {
  /** moto server's endpoint, where everything but PC and Invoke goes. */
  readonly upstream: string;
  /** @default 0: a free port */
  readonly port?: number;
  readonly builds: VersionBuilds;
  /** The PC simulation's timing and failures (its `lambda` is moto's, made here). */
  readonly pc?: Omit<SimulationOptions, 'lambda'>;
  /** Lines about what the endpoint does (emulators started, PC changes). @default none */
  readonly log?: (line: string) => void;
  /** @default Math.random */
  readonly random?: () => number;
}

export interface LambdaEndpoint {
  readonly endpoint: string;
  readonly simulation: ProvisionedConcurrencySimulation;
  /** Stops the server and every emulator it started; safe to call twice. */
  stop(): Promise<void>;
}

/** Lambda's answer to a log tail request: the last 4 KB of the invocation's log. */
const LOG_TAIL_BYTES = 4096;

/** The emulator's own lines (`… [INFO] (rapid) …`) left out: Lambda's log holds the function's lines, START, END and REPORT. */
function functionLog(logs: string): string {
  return logs
    .split('\n')
    .filter((line) => !/^\d{2} \w{3} \d{4} [\d:,]+ \[\w+\] \(rapid\)/.test(line))
    .join('\n');
}

class LambdaApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A function name as a path segment carries it: a name, or an ARN whose name (and qualifier) this takes apart. */
function functionOf(segment: string): { readonly name: string; readonly qualifier: string | undefined } {
  const decoded = decodeURIComponent(segment);
  const arn = /^arn:[^:]+:lambda:[^:]*:\d*:function:([^:]+)(?::([^:]+))?$/.exec(decoded);
  if (arn !== null) return { name: arn[1] as string, qualifier: arn[2] };
  const [name, qualifier] = decoded.split(':');
  return { name: name ?? decoded, qualifier };
}

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(value));
}

function sendError(response: ServerResponse, error: LambdaApiError): void {
  sendJson(response, error.status, { Type: 'User', message: error.message }, { 'x-amzn-errortype': error.type });
}

export async function startLambdaEndpoint(options: LambdaEndpointOptions): Promise<LambdaEndpoint> {
  // moto checks neither region nor credentials; the SDK needs some.
  const moto = new LambdaClient({
    endpoint: options.upstream,
    region: process.env['AWS_REGION'] ?? 'us-east-1',
    credentials: { accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? 'testing', secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? 'testing' },
  });
  const simulation = new ProvisionedConcurrencySimulation({ ...options.pc, lambda: moto });
  const log = options.log ?? (() => undefined);
  const random = options.random ?? Math.random;
  const staged = new Map<string, Promise<StagedArtifacts>>();
  const running = new Map<string, Promise<LambdaUnderTest>>();

  function stage(dir: string): Promise<StagedArtifacts> {
    let artifacts = staged.get(dir);
    if (artifacts === undefined) {
      artifacts = stageArtifacts(dir);
      staged.set(dir, artifacts);
    }
    return artifacts;
  }

  /** The emulator that runs `version` of `functionName`, started on first use. */
  function emulatorFor(functionName: string, version: string): Promise<LambdaUnderTest> {
    const id = `${functionName}:${version}`;
    let fn = running.get(id);
    if (fn === undefined) {
      fn = (async () => {
        const dir = options.builds.byVersion?.[version] ?? options.builds.default;
        if (dir === undefined) throw new LambdaApiError(404, 'ResourceNotFoundException', `no build runs version ${version} of ${functionName} here: start the endpoint with --build <dir> or --build ${version}=<dir>`);
        const [artifacts, config] = await Promise.all([stage(dir), moto.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }))]);
        if (artifacts.build.arch !== hostArch()) {
          throw new LambdaApiError(500, 'ServiceException', `${dir} is built for ${artifacts.build.arch}; the emulator runs this machine's ${hostArch()}: build it with --arch ${hostArch()}`);
        }
        const started = await startFunction({
          taskRoot: artifacts.taskRoot,
          optDir: artifacts.optDir,
          handler: artifacts.build.handler,
          runtime: artifacts.build.runtime,
          functionName,
          memoryMB: config.MemorySize ?? 128,
          timeoutSeconds: config.Timeout ?? 3,
          env: { ...config.Environment?.Variables, [LAMBDA_ENV.FUNCTION_VERSION]: version },
        });
        log(`version ${version} of ${functionName} runs ${dir} (${artifacts.build.model.name}@${artifacts.build.model.version}) under the runtime emulator`);
        return started;
      })();
      fn.catch(() => running.delete(id));
      running.set(id, fn);
    }
    return fn;
  }

  async function invoke(request: IncomingMessage, response: ServerResponse, fn: { name: string; qualifier: string | undefined }, query: URLSearchParams): Promise<void> {
    const payload = await body(request);
    const qualifier = query.get('Qualifier') ?? fn.qualifier ?? '$LATEST';
    let version = qualifier;
    if (!/^\d+$/.test(qualifier)) {
      if (qualifier === '$LATEST') throw new LambdaApiError(400, 'InvalidParameterValueException', `this endpoint runs published versions only; invoke ${fn.name} with a version or alias qualifier`);
      const alias = await moto.send(new GetAliasCommand({ FunctionName: fn.name, Name: qualifier }));
      const weights = { ...alias.RoutingConfig?.AdditionalVersionWeights };
      version = pickVersion({ version: alias.FunctionVersion ?? '', weights }, random());
    }
    const type = request.headers['x-amz-invocation-type'] ?? 'RequestResponse';
    if (type === 'DryRun') {
      response.writeHead(204).end();
      return;
    }
    let event: unknown;
    try {
      event = payload.length === 0 ? {} : JSON.parse(payload.toString('utf8'));
    } catch {
      throw new LambdaApiError(400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    const invocation = await (await emulatorFor(fn.name, version)).invoke(event);
    if (type === 'Event') {
      response.writeHead(202).end();
      return;
    }
    const result = invokeResult(invocation, version);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amz-executed-version': version };
    if (result.functionError !== undefined) headers['x-amz-function-error'] = result.functionError;
    if (request.headers['x-amz-log-type'] === 'Tail') headers['x-amz-log-result'] = Buffer.from(functionLog(invocation.logs)).subarray(-LOG_TAIL_BYTES).toString('base64');
    response.writeHead(result.statusCode, headers);
    response.end(result.payload);
  }

  async function provisionedConcurrency(request: IncomingMessage, response: ServerResponse, ref: AliasRef): Promise<void> {
    if (request.method === 'GET') {
      const config = await simulation.get(ref);
      if (config === undefined) throw new LambdaApiError(404, 'ProvisionedConcurrencyConfigNotFoundException', `No Provisioned Concurrency Config found for this function: ${ref.functionName}:${ref.alias}`);
      sendJson(response, 200, {
        RequestedProvisionedConcurrentExecutions: config.requested,
        AllocatedProvisionedConcurrentExecutions: config.allocated,
        AvailableProvisionedConcurrentExecutions: config.allocated,
        Status: config.status,
        ...(config.reason === undefined ? {} : { StatusReason: config.reason }),
        LastModified: new Date().toISOString(),
      });
      return;
    }
    if (request.method === 'PUT') {
      const requested = Number((JSON.parse((await body(request)).toString('utf8') || '{}') as { ProvisionedConcurrentExecutions?: unknown }).ProvisionedConcurrentExecutions);
      if (!Number.isInteger(requested) || requested < 1) throw new LambdaApiError(400, 'InvalidParameterValueException', `ProvisionedConcurrentExecutions must be a whole number of at least 1; got ${requested}`);
      try {
        await simulation.put(ref, requested);
      } catch (error) {
        if (error instanceof Error && error.message === WEIGHTS_REFUSAL) throw new LambdaApiError(400, 'InvalidParameterValueException', WEIGHTS_REFUSAL);
        throw error;
      }
      const config = await simulation.get(ref);
      log(`provisioned concurrency of ${ref.functionName}:${ref.alias}: ${requested} requested (${config?.status ?? 'unknown'})`);
      sendJson(response, 202, { RequestedProvisionedConcurrentExecutions: requested, AllocatedProvisionedConcurrentExecutions: config?.allocated ?? 0, AvailableProvisionedConcurrentExecutions: config?.allocated ?? 0, Status: config?.status ?? 'IN_PROGRESS', LastModified: new Date().toISOString() });
      return;
    }
    if (request.method === 'DELETE') {
      if (!simulation.remove(ref)) throw new LambdaApiError(404, 'ProvisionedConcurrencyConfigNotFoundException', `No Provisioned Concurrency Config found for this function: ${ref.functionName}:${ref.alias}`);
      response.writeHead(204).end();
      return;
    }
    throw new LambdaApiError(405, 'MethodNotAllowedException', `${request.method ?? ''} is not a provisioned-concurrency method`);
  }

  /** Passes the request to moto; for an UpdateAlias or GetAlias, applies the simulation's transient weight. */
  async function proxy(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const payload = await body(request);
    const alias = /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/.exec(url.pathname);
    const ref = alias === null ? undefined : { functionName: functionOf(alias[1] as string).name, alias: decodeURIComponent(alias[2] as string) };
    const updating = ref !== undefined && request.method === 'PUT';
    const before = updating ? (await moto.send(new GetAliasCommand({ FunctionName: ref.functionName, Name: ref.alias })).catch(() => undefined))?.FunctionVersion : undefined;
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || name === 'host' || name === 'connection' || name === 'content-length' || name === 'transfer-encoding') continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const upstream = await fetch(new URL(url.pathname + url.search, options.upstream), {
      method: request.method ?? 'GET',
      headers,
      ...(payload.length > 0 ? { body: new Uint8Array(payload) } : {}),
    });
    let text = await upstream.text();
    if (ref !== undefined && upstream.ok && (request.method === 'GET' || updating)) {
      const answer = JSON.parse(text) as { FunctionVersion?: string; RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> } };
      if (updating) simulation.aliasUpdated(ref, before, answer.FunctionVersion);
      const reported = simulation.reported(ref, answer.RoutingConfig?.AdditionalVersionWeights ?? {});
      if (Object.keys(reported).length > 0) text = JSON.stringify({ ...answer, RoutingConfig: { ...answer.RoutingConfig, AdditionalVersionWeights: reported } });
    }
    const out: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'content-encoding' && name !== 'transfer-encoding' && name !== 'connection') out[name] = value;
    });
    response.writeHead(upstream.status, out);
    response.end(text);
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const pc = /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency$/.exec(url.pathname);
    const invocation = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    let handled: Promise<void>;
    if (pc !== null && url.searchParams.has('Qualifier')) {
      handled = provisionedConcurrency(request, response, { functionName: functionOf(pc[1] as string).name, alias: url.searchParams.get('Qualifier') as string });
    } else if (invocation !== null && request.method === 'POST') {
      handled = invoke(request, response, functionOf(invocation[1] as string), url.searchParams);
    } else {
      handled = proxy(request, response, url);
    }
    handled.catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof LambdaApiError) sendError(response, error);
      else if (error instanceof Error && error.name === 'ResourceNotFoundException') sendError(response, new LambdaApiError(404, 'ResourceNotFoundException', error.message));
      else sendError(response, new LambdaApiError(500, 'ServiceException', `the local Lambda endpoint failed: ${error instanceof Error ? error.message : String(error)}`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    simulation,
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await Promise.all([...running.values()].map(async (fn) => (await fn.catch(() => undefined))?.stop()));
        await Promise.all([...staged.values()].map(async (artifacts) => (await artifacts.catch(() => undefined))?.remove()));
        moto.destroy();
      })();
      return stopping;
    },
  };
}
