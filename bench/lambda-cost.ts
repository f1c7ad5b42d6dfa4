/**
 * An estimate, not a measurement: what Lambda would charge per million predictions for the durations the bench
 * measured, at 512 to 3008 MB, on arm64 and x86_64, with AWS's published us-east-1 prices. Written as a Markdown
 * table and as an SVG chart (by hand; no charting library).
 *
 * The model: a function gets CPU in proportion to its memory, one vCPU at 1,769 MB, so a single-threaded request
 * that takes d ms on one full core takes about d * max(1, 1769 / M) ms at M MB (more memory than 1,769 MB adds a
 * second vCPU, which one inference thread does not use). Lambda bills whole milliseconds, at least one. The bench's
 * core is taken as one Lambda vCPU of either architecture; arm64 was not measured.
 */

export const PRICING = Object.freeze({
  /** The date of the prices below, as given to this project; check https://aws.amazon.com/lambda/pricing/. */
  asOf: '2026-11-27',
  region: 'us-east-1',
  /** USD per GB-second of duration (the first pricing tier). */
  gbSecond: Object.freeze({ arm64: 0.0000133334, x86_64: 0.0000166667 }),
  /** USD per million requests. */
  perMillionRequests: 0.2,
  /** USD per GB of CloudWatch Logs ingested (standard log class), which the EMF lines cost too. */
  logsPerGb: 0.5,
  /** Since 1 August 2025 the INIT phase of on-demand functions is billed like the invocation itself. */
  initBilled: true,
});

export const MEMORY_SIZES = [512, 1024, 1536, 1769, 2048, 3008] as const;
export const ONE_VCPU_MB = 1769;
export const ARCHES = ['arm64', 'x86_64'] as const;

/** One measured workload the table prices. */
export interface CostInput {
  readonly name: string;
  /** Handler time per request on one full core, ms. */
  readonly durationMs: number;
  readonly predictionsPerRequest: number;
  /** Bytes of EMF log written per request. */
  readonly logBytesPerRequest: number;
}

export interface CostRow {
  readonly input: string;
  readonly arch: (typeof ARCHES)[number];
  readonly memoryMb: number;
  /** Modelled handler time at this memory size, ms. */
  readonly durationMs: number;
  readonly billedMs: number;
  /** USD per million predictions: duration plus request charges. */
  readonly lambdaPerMillion: number;
  /** USD per million predictions for the EMF log lines' ingestion. */
  readonly logsPerMillion: number;
}

export function cpuScale(memoryMb: number): number {
  return Math.max(1, ONE_VCPU_MB / memoryMb);
}

export function costRows(inputs: readonly CostInput[]): CostRow[] {
  const rows: CostRow[] = [];
  for (const input of inputs) {
    const requestsPerMillion = 1e6 / input.predictionsPerRequest;
    for (const arch of ARCHES) {
      for (const memoryMb of MEMORY_SIZES) {
        const durationMs = input.durationMs * cpuScale(memoryMb);
        const billedMs = Math.max(1, Math.ceil(durationMs));
        const perRequest = (billedMs / 1000) * (memoryMb / 1024) * PRICING.gbSecond[arch] + PRICING.perMillionRequests / 1e6;
        rows.push({
          input: input.name,
          arch,
          memoryMb,
          durationMs,
          billedMs,
          lambdaPerMillion: requestsPerMillion * perRequest,
          logsPerMillion: (requestsPerMillion * input.logBytesPerRequest * PRICING.logsPerGb) / 2 ** 30,
        });
      }
    }
  }
  return rows;
}

/** USD for one cold start's billed init of `initMs` (measured on one core) at each memory size. */
export function initCost(initMs: number, arch: (typeof ARCHES)[number], memoryMb: number): number {
  return ((initMs * cpuScale(memoryMb)) / 1000) * (memoryMb / 1024) * PRICING.gbSecond[arch];
}

function usd(value: number): string {
  if (value >= 1) return `$${value.toFixed(2)}`;
  return `$${value.toPrecision(3)}`;
}

export function costMarkdown(rows: readonly CostRow[], initMs: number): string {
  const lines = [
    `| workload | memory | modelled duration | billed | arm64 $/M predictions | x86_64 $/M predictions | EMF logs $/M | init, arm64 / x86_64, per 1,000 cold starts |`,
    `|---|---|---|---|---|---|---|---|`,
  ];
  const inputs = [...new Set(rows.map((r) => r.input))];
  for (const input of inputs) {
    for (const memoryMb of MEMORY_SIZES) {
      const arm = rows.find((r) => r.input === input && r.memoryMb === memoryMb && r.arch === 'arm64')!;
      const x86 = rows.find((r) => r.input === input && r.memoryMb === memoryMb && r.arch === 'x86_64')!;
      lines.push(
        `| ${input} | ${memoryMb} MB | ${arm.durationMs < 1 ? arm.durationMs.toFixed(3) : arm.durationMs.toFixed(1)} ms | ${arm.billedMs} ms | ${usd(arm.lambdaPerMillion)} | ${usd(x86.lambdaPerMillion)} | ${usd(arm.logsPerMillion)} | ${usd(1000 * initCost(initMs, 'arm64', memoryMb))} / ${usd(1000 * initCost(initMs, 'x86_64', memoryMb))} |`,
      );
    }
  }
  return lines.join('\n');
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A line chart of Lambda's charge per million predictions against memory, one colour per workload, solid for
 * arm64 and dashed for x86_64, on a logarithmic dollar axis.
 */
export function costSvg(rows: readonly CostRow[], caption: string): string {
  const width = 800;
  const height = 440;
  const margin = { left: 78, right: 280, top: 48, bottom: 70 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const values = rows.map((r) => r.lambdaPerMillion);
  const low = Math.floor(Math.log10(Math.min(...values)));
  const high = Math.ceil(Math.log10(Math.max(...values)) + 1e-9);
  const xMin = MEMORY_SIZES[0];
  const xMax = MEMORY_SIZES[MEMORY_SIZES.length - 1]!;
  const x = (mb: number) => margin.left + ((mb - xMin) / (xMax - xMin)) * plotW;
  const y = (usdValue: number) => margin.top + plotH - ((Math.log10(usdValue) - low) / Math.max(1, high - low)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="20" font-size="15" font-weight="bold">Estimated Lambda charge per million predictions</text>`,
    `<text x="${margin.left}" y="37" fill="#555555">${escapeXml(caption)}</text>`,
  ];
  for (let decade = low; decade <= high; decade++) {
    for (const step of [1, 2, 5]) {
      const v = step * 10 ** decade;
      if (Math.log10(v) > high + 1e-9) continue;
      const yy = y(v).toFixed(1);
      out.push(`<line x1="${margin.left}" y1="${yy}" x2="${margin.left + plotW}" y2="${yy}" stroke="${step === 1 ? '#cccccc' : '#eeeeee'}"/>`);
      out.push(`<text x="${margin.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#333333">${usd(v)}</text>`);
    }
  }
  for (const mb of MEMORY_SIZES) {
    const xx = x(mb).toFixed(1);
    out.push(`<line x1="${xx}" y1="${margin.top}" x2="${xx}" y2="${margin.top + plotH}" stroke="${mb === ONE_VCPU_MB ? '#999999' : '#eeeeee'}"${mb === ONE_VCPU_MB ? ' stroke-dasharray="2,3"' : ''}/>`);
    out.push(`<text x="${xx}" y="${margin.top + plotH + 16}" text-anchor="middle" fill="#333333">${mb}</text>`);
  }
  out.push(`<text x="${x(ONE_VCPU_MB).toFixed(1)}" y="${margin.top - 4}" text-anchor="middle" fill="#777777" font-size="10">1 vCPU</text>`);
  out.push(`<text x="${margin.left + plotW / 2}" y="${height - 30}" text-anchor="middle">memory (MB)</text>`);
  out.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">USD per million predictions (log scale)</text>`);
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`);
  const inputs = [...new Set(rows.map((r) => r.input))];
  const drawn: { label: string; values: string }[] = [];
  let legendY = margin.top + 6;
  inputs.forEach((input, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    for (const arch of ARCHES) {
      const points = MEMORY_SIZES.map((mb) => rows.find((r) => r.input === input && r.arch === arch && r.memoryMb === mb)!);
      const dash = arch === 'x86_64' ? ' stroke-dasharray="6,4"' : '';
      // Workloads billed the same (the one-millisecond minimum) draw one line; the legend says so.
      const values = points.map((p) => p.lambdaPerMillion.toPrecision(6)).join(' ');
      const same = drawn.find((d) => d.values === values);
      drawn.push({ label: `${input}, ${arch}`, values });
      out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${points.map((p) => `${x(p.memoryMb).toFixed(1)},${y(p.lambdaPerMillion).toFixed(1)}`).join(' ')}"/>`);
      for (const p of points) out.push(`<circle cx="${x(p.memoryMb).toFixed(1)}" cy="${y(p.lambdaPerMillion).toFixed(1)}" r="2.5" fill="${colour}"/>`);
      const lx = margin.left + plotW + 14;
      out.push(`<line x1="${lx}" y1="${legendY}" x2="${lx + 26}" y2="${legendY}" stroke="${colour}" stroke-width="2"${dash}/>`);
      out.push(`<text x="${lx + 32}" y="${legendY}" dominant-baseline="middle">${escapeXml(`${input}, ${arch}`)}</text>`);
      if (same !== undefined) {
        legendY += 13;
        out.push(`<text x="${lx + 32}" y="${legendY}" dominant-baseline="middle" fill="#777777" font-size="10">${escapeXml(`(same line as ${same.label})`)}</text>`);
      }
      legendY += 18;
    }
  });
  out.push(`<text x="${margin.left}" y="${height - 10}" fill="#555555" font-size="10">Duration modelled as the bench's one-core time x max(1, 1769 / MB), billed in whole ms; request charge included, logs and init not. Estimate, not a measurement.</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
