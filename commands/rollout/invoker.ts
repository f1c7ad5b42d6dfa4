/**
 * How the rollout calls a function: one synchronous invocation of a version or an alias with a JSON event. The
 * traffic check and the canary traffic go through this interface; in production it is Lambda's Invoke API, and the
 * tests put the built artifacts under AWS's Runtime Interface Emulator behind it (tools/emulator-invoker.ts).
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/** What Lambda's Invoke API answers for a synchronous (RequestResponse) call. */
export interface InvokeResult {
  /** The Invoke API's StatusCode: 200 for a call that ran, including one whose function failed. */
  readonly statusCode: number;
  /** Set when the function failed ("Unhandled": it threw, timed out or could not start); undefined otherwise. */
  readonly functionError: string | undefined;
  /** The function's response as text (JSON for an HTTP handler such as ours; the error object when it failed). */
  readonly payload: string;
  /** The version that ran: the qualifier itself for a version, the one the alias routed to for an alias. */
  readonly executedVersion: string | undefined;
}

export interface Invoker {
  /**
   * Invokes `functionName` at `qualifier` (a version number or an alias name) with `event` as its JSON payload and
   * waits for the answer. Rejects only when the call itself fails (no such function or qualifier, throttling, a
   * network error, `signal` aborted); a function that fails answers with `functionError` set.
   */
  invoke(functionName: string, qualifier: string, event: unknown, signal?: AbortSignal): Promise<InvokeResult>;
}

/** The Invoker over Lambda's Invoke API. The client honours AWS_ENDPOINT_URL like every client the rollout makes. */
export function lambdaInvoker(client: LambdaClient): Invoker {
  return {
    async invoke(functionName, qualifier, event, signal) {
      const answer = await client.send(
        new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
        signal === undefined ? {} : { abortSignal: signal },
      );
      return {
        statusCode: answer.StatusCode ?? 0,
        functionError: answer.FunctionError,
        payload: answer.Payload === undefined ? '' : new TextDecoder().decode(answer.Payload),
        executedVersion: answer.ExecutedVersion,
      };
    },
  };
}
