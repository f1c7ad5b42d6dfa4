import test from 'ava';
import { Testing, type TerraformStack } from 'cdktf';
import { Alarms } from '../../../infra/constructs/alarms.js';
import { SettingError } from '../../../infra/errors.js';
import { Dashboard, dashboardConsoleUrl, type DashboardProps } from '../../../infra/constructs/dashboard.js';
import { resourcesOf, synth, testStack, type Json } from '../../helpers/infra-monitoring.js';
import { decodeDashboardBody } from '../../helpers/infra-synth.js';

const FUNCTION = 'onnx-predict-dev';
const ALARM_ARNS = ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:onnx-predict-dev-error-rate', 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:onnx-predict-dev-throttles'];
const BASE: DashboardProps = { name: 'onnx-predict-dev', region: 'eu-west-1', functionName: FUNCTION, alarmArns: ALARM_ARNS };
const ALIAS = ['FunctionName', FUNCTION, 'Resource', `${FUNCTION}:live`];

function build(props: Partial<DashboardProps> = {}): { stack: TerraformStack; dashboard: Dashboard; out: Json } {
  const stack = testStack();
  const dashboard = new Dashboard(stack, 'dashboard', { ...BASE, ...props });
  return { stack, dashboard, out: synth(stack) };
}

function bodyOf(out: Json): Json {
  const [resource] = resourcesOf(out, 'aws_cloudwatch_dashboard');
  return decodeDashboardBody(String(resource?.['dashboard_body']));
}

function widgets(out: Json): Json[] {
  return bodyOf(out)['widgets'] as Json[];
}

function graph(out: Json, title: string): Json {
  const found = widgets(out).filter((w) => w['properties']?.['title'] === title);
  if (found.length !== 1) throw new Error(`expected one widget titled ${title}, found ${found.length}`);
  return found[0]!['properties'] as Json;
}

function search(set: string, metric: string, stat: string): string {
  return `SEARCH('{"OnnxLambda",FunctionName,${set}} MetricName="${metric}" FunctionName="${FUNCTION}"', '${stat}', 60)`;
}

/** The SEARCH expressions of a graph, in order. */
function expressions(properties: Json): string[] {
  return (properties['metrics'] as Json[][]).map((row) => row[0]?.['expression'] as string);
}

test('creates one dashboard with the name given', (t) => {
  const dashboards = resourcesOf(build().out, 'aws_cloudwatch_dashboard');
  t.is(dashboards.length, 1);
  t.is(dashboards[0]?.['dashboard_name'], 'onnx-predict-dev');
});

test('exposes the dashboard name and its console URL', (t) => {
  const { dashboard } = build();
  t.is(dashboard.dashboardName, 'onnx-predict-dev');
  t.is(dashboard.consoleUrl, 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=onnx-predict-dev');
});

test('builds the console URL of any dashboard from region and name', (t) => {
  t.is(dashboardConsoleUrl('us-east-1', 'svc-prod'), 'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=svc-prod');
});

test('writes a body that parses as JSON and shows the last three hours', (t) => {
  t.like(bodyOf(build().out), { start: '-PT3H', periodOverride: 'inherit' });
});

test('writes the same body for the same props', (t) => {
  t.is(build().dashboard.body, build().dashboard.body);
});

test('lists the alarms in an alarm status widget across the top', (t) => {
  const [first] = widgets(build().out);
  t.like(first, { type: 'alarm', x: 0, y: 0, width: 24 });
  t.deepEqual(first?.['properties']?.['alarms'], ALARM_ARNS);
});

test('refuses alarm ARNs that are Terraform references, which the HCL output would mangle', (t) => {
  const stack = testStack();
  const alarms = new Alarms(stack, 'alarms', { prefix: 'onnx-predict-dev-', functionName: FUNCTION, modelVersion: 'iris@1' });
  const error = t.throws(() => new Dashboard(stack, 'dashboard', { ...BASE, alarmArns: alarms.alarmArns }), { instanceOf: SettingError });
  t.regex(error.message, /functionName, aliasName and alarmArns.*pass alarm ARNs written out/);
});

test('has no alarm status widget without alarm ARNs', (t) => {
  const all = widgets(build({ alarmArns: [] }).out);
  t.false(all.some((w) => w['type'] === 'alarm'));
  t.is(all[0]?.['y'], 0);
});

for (const metric of ['Invocations', 'Errors', 'Throttles']) {
  test(`graphs the ${metric.toLowerCase()} of the alias, summed`, (t) => {
    const p = graph(build().out, `${metric} (live)`);
    t.is(p['stat'], 'Sum');
    t.deepEqual(p['metrics'], [['AWS/Lambda', metric, ...ALIAS, { label: metric }]]);
  });
}

test('graphs p50, p90 and p99 Duration of the alias', (t) => {
  t.deepEqual(graph(build().out, 'Duration p50 / p90 / p99 (live)')['metrics'], [
    ['AWS/Lambda', 'Duration', ...ALIAS, { stat: 'p50', label: 'p50' }],
    ['AWS/Lambda', 'Duration', ...ALIAS, { stat: 'p90', label: 'p90' }],
    ['AWS/Lambda', 'Duration', ...ALIAS, { stat: 'p99', label: 'p99' }],
  ]);
});

test('graphs concurrent executions and provisioned concurrency utilization of the alias', (t) => {
  const p = graph(build().out, 'Concurrency (live)');
  t.is(p['stat'], 'Maximum');
  t.deepEqual(p['metrics'], [
    ['AWS/Lambda', 'ConcurrentExecutions', ...ALIAS, { label: 'Concurrent executions' }],
    ['AWS/Lambda', 'ProvisionedConcurrencyUtilization', ...ALIAS, { label: 'Provisioned concurrency utilization', yAxis: 'right' }],
  ]);
});

/** The graphs of the function's EMF metrics: each a SEARCH over one of its dimension sets, per version. */
const SEARCH_GRAPHS: readonly { title: string; expressions: readonly string[] }[] = [
  { title: 'Cold starts per Lambda version', expressions: [search('FunctionVersion', 'ColdStart', 'Sum')] },
  { title: 'Request latency p50 / p99 per model version', expressions: [search('ModelVersion', 'RequestLatency', 'p50'), search('ModelVersion', 'RequestLatency', 'p99')] },
  { title: 'Request latency p50 / p99 per Lambda version', expressions: [search('FunctionVersion', 'RequestLatency', 'p50'), search('FunctionVersion', 'RequestLatency', 'p99')] },
  { title: 'Inference latency p50 / p99 per model version', expressions: [search('ModelVersion', 'InferenceLatency', 'p50'), search('ModelVersion', 'InferenceLatency', 'p99')] },
  { title: 'Inference latency p50 / p99 per Lambda version', expressions: [search('FunctionVersion', 'InferenceLatency', 'p50'), search('FunctionVersion', 'InferenceLatency', 'p99')] },
  {
    title: 'Prediction confidence average / p10 per model version',
    expressions: [search('ModelVersion', 'PredictionConfidence', 'Average'), search('ModelVersion', 'PredictionConfidence', 'p10')],
  },
  {
    title: 'Prediction confidence average / p10 per Lambda version',
    expressions: [search('FunctionVersion', 'PredictionConfidence', 'Average'), search('FunctionVersion', 'PredictionConfidence', 'p10')],
  },
  { title: 'Invalid requests per Lambda version', expressions: [search('FunctionVersion', 'InvalidRequest', 'Sum')] },
  { title: 'Server errors (500, 503) per Lambda version', expressions: [search('FunctionVersion', 'InternalError', 'Sum'), search('FunctionVersion', 'ModelUnavailable', 'Sum')] },
];

for (const { title, expressions: expected } of SEARCH_GRAPHS) {
  test(`graphs "${title}" with a SEARCH over the EMF dimension set`, (t) => {
    t.deepEqual(expressions(graph(build().out, title)), expected);
  });
}

test('gives every SEARCH expression a unique id', (t) => {
  const ids = widgets(build().out)
    .flatMap((w) => (w['properties']?.['metrics'] ?? []) as Json[][])
    .map((row) => row[0])
    .filter((first): first is Json => typeof first === 'object' && first !== null)
    .map((expression) => expression['id'] as string);
  t.is(ids.length, 20);
  t.is(new Set(ids).size, ids.length);
});

test('reads every graph in the region and at the period given', (t) => {
  const graphs = widgets(build({ region: 'us-east-2', period: 300 }).out).filter((w) => w['type'] === 'metric');
  t.is(graphs.length, 16);
  for (const w of graphs) t.like(w['properties'], { region: 'us-east-2', period: 300, view: 'timeSeries' });
});

test('shows drift beside confidence: the share of values outside the training range on the same row, per model and per Lambda version', (t) => {
  const out = build().out;
  for (const per of ['model version', 'Lambda version']) {
    const confidence = widgets(out).find((w) => w['properties']?.['title'] === `Prediction confidence average / p10 per ${per}`)!;
    const drift = widgets(out).find((w) => w['properties']?.['title'] === `Values outside the training range, % average / max per ${per}`)!;
    t.is(drift['y'], confidence['y']);
    t.is(drift['x'], Number(confidence['x']) + Number(confidence['width']));
    t.regex(expressions(drift['properties'] as Json)[0]!, /MetricName="OutOfTrainingRange"/);
  }
});

test('reads the EMF metrics from the namespace given and the alias metrics from the alias given', (t) => {
  const { out } = build({ metricsNamespace: 'Acme/Inference', aliasName: 'canary' });
  t.regex(expressions(graph(out, 'Cold starts per Lambda version'))[0]!, /^SEARCH\('\{"Acme\/Inference",FunctionName,FunctionVersion\} /);
  t.deepEqual(graph(out, 'Invocations (canary)')['metrics'], [['AWS/Lambda', 'Invocations', 'FunctionName', FUNCTION, 'Resource', `${FUNCTION}:canary`, { label: 'Invocations' }]]);
});

test('lays the widgets out on the 24-unit grid without overlaps', (t) => {
  const all = widgets(build().out);
  const cells = new Set<string>();
  for (const w of all) {
    t.true(w['x'] + w['width'] <= 24);
    for (let x = w['x']; x < w['x'] + w['width']; x++) {
      for (let y = w['y']; y < w['y'] + w['height']; y++) {
        const cell = `${x},${y}`;
        t.false(cells.has(cell), `widget "${w['properties']['title']}" overlaps at ${cell}`);
        cells.add(cell);
      }
    }
  }
});

test('synthesizes the same Terraform as the snapshot', (t) => {
  t.snapshot(JSON.parse(Testing.synth(build().stack, true)));
});

/** Props the construct rejects, each with the start of its message. */
const REJECTED: readonly { title: string; props: Partial<DashboardProps>; message: RegExp }[] = [
  { title: 'rejects a dashboard name with a space', props: { name: 'onnx predict' }, message: /^monitoring\/dashboard: name is "onnx predict"; allowed: a dashboard name: 1 to 255 letters, digits, "-" or "_"$/ },
  { title: 'rejects a region that is not a region code', props: { region: 'Ireland' }, message: /^monitoring\/dashboard: region is "Ireland"; allowed: an AWS region code/ },
  { title: 'rejects a function name Lambda does not allow', props: { functionName: 'fn.name' }, message: /^monitoring\/dashboard: functionName is "fn.name"; allowed: a Lambda function name/ },
  { title: 'rejects an alias name made only of digits', props: { aliasName: '7' }, message: /^monitoring\/dashboard: aliasName is "7"; allowed: a Lambda alias name/ },
  { title: 'rejects a namespace with a quote', props: { metricsNamespace: 'Onnx"Lambda' }, message: /^monitoring\/dashboard: metricsNamespace is "Onnx\\"Lambda"; allowed: a custom CloudWatch namespace/ },
  { title: 'rejects a period of 0 seconds', props: { period: 0 }, message: /^monitoring\/dashboard: period is 0; allowed: a positive multiple of 60 up to 86400$/ },
  { title: 'rejects a period that is not a multiple of 60 seconds', props: { period: 45 }, message: /^monitoring\/dashboard: period is 45; allowed: a positive multiple of 60/ },
  {
    title: 'rejects more than 100 alarms',
    props: { alarmArns: Array.from({ length: 101 }, (_, i) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a${i}`) },
    message: /^monitoring\/dashboard: alarmArns is "101 ARNs"; allowed: at most 100 alarms/,
  },
  {
    title: 'rejects an alarm ARN that is not a CloudWatch alarm ARN',
    props: { alarmArns: ['arn:aws:sns:eu-west-1:123456789012:topic'] },
    message: /^monitoring\/dashboard: alarmArns\[0\] is "arn:aws:sns:eu-west-1:123456789012:topic"; allowed: a CloudWatch alarm ARN/,
  },
];

for (const { title, props, message } of REJECTED) {
  test(title, (t) => {
    const error = t.throws(() => new Dashboard(testStack(), 'dashboard', { ...BASE, ...props }), { instanceOf: SettingError });
    t.regex(error?.message ?? '', message);
  });
}
