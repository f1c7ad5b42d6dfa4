/**
 * The figures of `npm run bench`'s observe section (issue 17): what tracing and prediction capture add to a request,
 * each mode beside the plain request measured in the same run, and their forms: the cases of latest.json and the
 * table of docs/PERFORMANCE.md ("Tracing and capture"). bench/observe.ts measures them.
 */
import { percentile } from './bench-data.js';
import { round, timingCase, type BenchCase } from './report.js';

/**
 * The four ways a request is served: without either; traced (a daemon address and a sampled trace header on every
 * invocation); captured (CAPTURE_SAMPLE_RATE=1, a capture record per request); both.
 */
export const OBSERVE_MODES = ['plain', 'traced', 'captured', 'traced+captured'] as const;
export type ObserveMode = (typeof OBSERVE_MODES)[number];

export function modeSettings(mode: ObserveMode): { readonly traced: boolean; readonly captured: boolean } {
  return { traced: mode === 'traced' || mode === 'traced+captured', captured: mode === 'captured' || mode === 'traced+captured' };
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly n: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  return { p50: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99), n: values.length };
}

/** One mode's warm requests in process, µs. */
export interface WarmMode {
  /** From the call to the end of the event-loop turn after the response, where the metrics line and the capture record are written. */
  readonly total: Percentiles;
  /** From the call to the response. */
  readonly response: Percentiles;
  /** Bytes of log lines (EMF, capture record) one request writes. */
  readonly logBytes: number;
  /** Log lines one request writes. */
  readonly logLines: number;
}

export interface ObserveWarm {
  readonly rows: number;
  readonly modes: Readonly<Record<ObserveMode, WarmMode>>;
  /** Datagrams the local daemon listener received from the traced modes, against three stages per traced request. */
  readonly spans: { readonly received: number; readonly expected: number };
}

/** One mode's warm invocations under the emulator, ms. */
export interface RieMode {
  readonly duration: Percentiles;
  readonly billed: Percentiles;
}

export interface ObserveRie {
  readonly rows: number;
  readonly modes: Readonly<Record<ObserveMode, RieMode>>;
}

/** The first invocation of fresh processes with the daemon address set, with and without a sampled trace header, ms. */
export interface FirstInvocation {
  readonly traced: Percentiles;
  readonly untraced: Percentiles;
  /** The Node that ran them. */
  readonly node: string;
}

export interface ObserveResult {
  readonly model: string;
  readonly warm: readonly ObserveWarm[];
  /** Under the emulator, or why not. */
  readonly rie: readonly ObserveRie[] | string;
  readonly first: FirstInvocation;
}

const sizeName = (rows: number) => (rows === 1 ? 'single' : `batch${rows}`);
const rowsText = (rows: number) => (rows === 1 ? '1 row' : `${rows} rows`);
const PLAIN = 'plain: no tracing, no capture';

/** The section's cases for bench/results/latest.json: every mode but plain against plain, and the first traced invocation. */
export function observeCases(result: ObserveResult): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const warm of result.warm) {
    const plain = warm.modes.plain;
    for (const mode of OBSERVE_MODES.filter((m) => m !== 'plain')) {
      const subject = warm.modes[mode];
      cases.push(
        timingCase(`observe/${result.model}/${sizeName(warm.rows)}/${mode}`, 'us', subject.total, PLAIN, plain.total, undefined, {
          measures: 'handler in process, from the call to the end of the work after the response (metrics line, capture record)',
          p90: round(subject.total.p90, 'us'),
          baseline_p90: round(plain.total.p90, 'us'),
          response_p50: round(subject.response.p50, 'us'),
          baseline_response_p50: round(plain.response.p50, 'us'),
          log_bytes: subject.logBytes,
          baseline_log_bytes: plain.logBytes,
          ...(modeSettings(mode).traced ? { spans_received: warm.spans.received, spans_expected: warm.spans.expected } : {}),
        }),
      );
    }
  }
  if (typeof result.rie !== 'string') {
    for (const rie of result.rie) {
      const plain = rie.modes.plain;
      for (const mode of OBSERVE_MODES.filter((m) => m !== 'plain')) {
        const subject = rie.modes[mode];
        cases.push(
          timingCase(`observe/${result.model}/rie/${sizeName(rie.rows)}/${mode}`, 'ms', subject.duration, `${PLAIN}, REPORT Duration`, plain.duration, undefined, {
            measures: 'REPORT Duration of warm invocations under the emulator, every subject behind the trace-header proxy',
            p90: round(subject.duration.p90, 'ms'),
            baseline_p90: round(plain.duration.p90, 'ms'),
            billed_p50: subject.billed.p50,
            baseline_billed_p50: plain.billed.p50,
          }),
        );
      }
    }
  }
  cases.push(
    timingCase(`observe/${result.model}/first-traced-invocation`, 'ms', result.first.traced, 'first invocation without a trace header', result.first.untraced, undefined, {
      measures: 'the first invocation of a fresh process (module already loaded), daemon address set in both; traced imports the tracer chunk',
      extra_ms: round(result.first.traced.p50 - result.first.untraced.p50, 'ms'),
      node: result.first.node,
    }),
  );
  return cases;
}

const us = (value: number) => `${round(value, 'us')}`;
const ms = (value: number) => `${round(value, 'ms')}`;
const ratio = (value: number, base: number) => (value / base).toFixed(2);

/**
 * docs/PERFORMANCE.md's table: per request size and mode, in process (p50 / p90 to the end of the work after the
 * response, the ratio of p50s to plain, p50 to the response, log bytes written) and under the emulator (REPORT
 * Duration p50 / p90, ratio to plain, billed p50); then the first traced invocation against the first untraced one.
 */
export function observeMarkdown(result: ObserveResult): string {
  const lines = [
    '| request | mode | in process, p50 / p90 | ratio | to the response, p50 | log bytes | emulator, REPORT Duration p50 / p90 | ratio | billed p50 |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const warm of result.warm) {
    const rie = typeof result.rie === 'string' ? undefined : result.rie.find((r) => r.rows === warm.rows);
    for (const mode of OBSERVE_MODES) {
      const w = warm.modes[mode];
      const r = rie?.modes[mode];
      const emulated = r === undefined ? '– | – | –' : `${ms(r.duration.p50)} / ${ms(r.duration.p90)} ms | ${ratio(r.duration.p50, rie!.modes.plain.duration.p50)} | ${r.billed.p50} ms`;
      lines.push(
        `| ${mode === 'plain' ? `${result.model}, ${rowsText(warm.rows)}` : ''} | ${mode} | ${us(w.total.p50)} / ${us(w.total.p90)} µs | ${ratio(w.total.p50, warm.modes.plain.total.p50)} | ${us(w.response.p50)} µs | ${w.logBytes.toLocaleString('en-US')} | ${emulated} |`,
      );
    }
  }
  const { traced, untraced } = result.first;
  const first =
    `First invocation of a fresh process (${traced.n} of each, alternating, Node ${result.first.node}): ${ms(traced.p50)} ms traced against ${ms(untraced.p50)} ms ` +
    `untraced (p50; p90 ${ms(traced.p90)} and ${ms(untraced.p90)}), so importing the tracer chunk and starting the tracer adds ${ms(traced.p50 - untraced.p50)} ms once per container.`;
  const skipped = typeof result.rie === 'string' ? `\n\nNot measured under the emulator in this run: ${result.rie}` : '';
  const spans = result.warm.map((w) => `${w.spans.received.toLocaleString('en-US')} of ${w.spans.expected.toLocaleString('en-US')} (${rowsText(w.rows)})`).join(', ');
  return `${lines.join('\n')}\n\n${first}\n\nSpans the local daemon listener received from the in-process traced requests: ${spans}.${skipped}`;
}
