import test from 'ava';
import type { Invocation } from '../../../tools/emulator.js';
import { invokeResult, pickVersion, type AliasRouting } from '../../../tools/emulator-invoker.js';

// The emulator invoker stands in for Lambda's Invoke API in front of one emulator per version; these are the rules
// of that simulation.

const ROUTINGS: readonly { readonly title: string; readonly routing: AliasRouting; readonly draws: readonly [number, string][] }[] = [
  { title: 'an alias without weights sends everything to its version', routing: { version: '3', weights: {} }, draws: [[0, '3'], [0.5, '3'], [0.999, '3']] },
  { title: 'a 10% weight takes the draws below 0.1, the primary the rest', routing: { version: '3', weights: { '4': 0.1 } }, draws: [[0, '4'], [0.0999, '4'], [0.1, '3'], [0.9, '3']] },
  { title: 'a 100% weight takes every draw', routing: { version: '3', weights: { '4': 1 } }, draws: [[0, '4'], [0.999, '4']] },
];

for (const { title, routing, draws } of ROUTINGS) {
  test(`alias routing: ${title}`, (t) => {
    for (const [draw, version] of draws) t.is(pickVersion(routing, draw), version, `draw ${draw}`);
  });
}

function invocation(fields: Partial<Invocation>): Invocation {
  return { status: 200, payload: undefined, raw: '', report: undefined, initError: false, timedOut: false, runtimeInitMs: undefined, logs: '', ...fields };
}

const RESULTS: readonly { readonly title: string; readonly invocation: Invocation; readonly statusCode: number; readonly functionError: string | undefined; readonly payload: string }[] = [
  {
    title: "a handler's HTTP response is the payload, with no FunctionError",
    invocation: invocation({ payload: { statusCode: 200, body: '{}' }, raw: '{"statusCode":200,"body":"{}"}' }),
    statusCode: 200,
    functionError: undefined,
    payload: '{"statusCode":200,"body":"{}"}',
  },
  {
    title: 'a handler that threw answers 200 with FunctionError Unhandled and its error object',
    invocation: invocation({ payload: { errorType: 'TypeError', errorMessage: 'boom' }, raw: '{"errorType":"TypeError","errorMessage":"boom"}' }),
    statusCode: 200,
    functionError: 'Unhandled',
    payload: '{"errorType":"TypeError","errorMessage":"boom"}',
  },
  {
    title: 'a function that could not start (RIE answers 502) answers 200 with FunctionError Unhandled',
    invocation: invocation({ status: 502, initError: true, payload: { errorType: 'Runtime.ImportModuleError', errorMessage: 'x' }, raw: '{"errorType":"Runtime.ImportModuleError","errorMessage":"x"}' }),
    statusCode: 200,
    functionError: 'Unhandled',
    payload: '{"errorType":"Runtime.ImportModuleError","errorMessage":"x"}',
  },
  {
    title: 'a timeout answers 200 with FunctionError Unhandled and the message as an error object',
    invocation: invocation({ timedOut: true, raw: 'Task timed out after 1.00 seconds' }),
    statusCode: 200,
    functionError: 'Unhandled',
    payload: '{"errorMessage":"Task timed out after 1.00 seconds"}',
  },
];

for (const { title, invocation: given, statusCode, functionError, payload } of RESULTS) {
  test(`emulator answers as the Invoke API: ${title}`, (t) => {
    t.deepEqual(invokeResult(given, '5'), { statusCode, functionError, payload, executedVersion: '5' });
  });
}
