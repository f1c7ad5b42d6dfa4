/**
 * One CloudWatch dashboard for one environment of the inference service: traffic and health of the alias from
 * AWS/Lambda, and the function's own EMF metrics per model version and per Lambda version.
 *
 * AWS/Lambda metrics are read per alias, under FunctionName + Resource = `<function>:<alias>` (aws/aws-cdk#3728).
 * The EMF metrics exist only under their full dimension sets, [FunctionName, FunctionVersion] and
 * [FunctionName, ModelVersion] (functions/predict/metrics.ts), and the versions are not known at synth time, so
 * those graphs are SEARCH expressions over each set: a version published by a later deploy, or a model it serves,
 * appears without redeploying the dashboard. SEARCH('{"<ns>",FunctionName,ModelVersion} ...') matches only metrics
 * with exactly that dimension set, and `FunctionName="<name>"` is an exact match (CloudWatch User Guide, "CloudWatch
 * search expression syntax" and "search expression examples").
 *
 * The body is plain JSON built here in a fixed order, so the same props give the same body byte for byte.
 */
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard/index.js';
import { fail, type Where } from '../validators.js';

export interface DashboardProps {
  /**
   * Dashboard name, unique in the account and region (e.g. `onnx-predict-dev`).
   * @default none; required
   */
  readonly name: string;
  /**
   * Region whose metrics the widgets read (every metric widget needs one), e.g. `eu-west-1`.
   * @default none; required
   */
  readonly region: string;
  /**
   * Name of the Lambda function (a literal or a reference to the function resource).
   * @default none; required
   */
  readonly functionName: string;
  /**
   * Alias that receives the traffic.
   * @default "live"
   */
  readonly aliasName?: string | undefined;
  /**
   * Namespace of the function's EMF metrics (its `METRICS_NAMESPACE`).
   * @default "OnnxLambda"
   */
  readonly metricsNamespace?: string | undefined;
  /**
   * ARNs of the alarms shown in the alarm status widget (`Alarms.alarmArns`); at most 100.
   * @default none: no alarm status widget
   */
  readonly alarmArns?: readonly string[] | undefined;
  /**
   * Period of every graph, in seconds: a multiple of 60.
   * @default 60
   */
  readonly period?: number | undefined;
}

/** The CloudWatch console page of a dashboard. */
export function dashboardConsoleUrl(region: string, name: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${name}`;
}

const DEFAULTS = { aliasName: 'live', metricsNamespace: 'OnnxLambda', period: 60 } as const;
/** An alarm status widget lists at most 100 alarms. */
const MAX_ALARMS = 100;
const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ALIAS_NAME = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/;
/** No quotes or spaces, so the namespace is safe inside a SEARCH string; not an AWS/ namespace. */
const NAMESPACE = /^(?!AWS\/)[A-Za-z0-9._#/-]{1,255}$/;
const ALARM_ARN = /^arn:[a-z-]+:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/;

function checkPattern(where: Where, setting: string, value: string, pattern: RegExp, allowed: string): void {
  if (!Token.isUnresolved(value) && !pattern.test(value)) fail(where, setting, value, allowed);
}

/** Grid geometry: CloudWatch dashboards are 24 units wide. */
const GRID_WIDTH = 24;
const GRAPH = { width: 12, height: 6 } as const;
const ALARM_WIDGET_HEIGHT = 4;

type MetricRow = readonly unknown[];
interface Graph {
  readonly title: string;
  readonly metrics: readonly MetricRow[];
  /** Default statistic of plain metric rows. */
  readonly stat?: string;
}

export class Dashboard extends Construct {
  readonly dashboardName: string;
  readonly dashboardArn: string;
  /** The dashboard's page in the CloudWatch console. */
  readonly consoleUrl: string;
  /** The JSON body, exposed for inspection; identical for identical props. */
  readonly body: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const aliasName = props.aliasName ?? DEFAULTS.aliasName;
    const namespace = props.metricsNamespace ?? DEFAULTS.metricsNamespace;
    const period = props.period ?? DEFAULTS.period;
    const alarmArns = props.alarmArns ?? [];
    const { name, region, functionName } = props;

    checkPattern(this, 'name', name, NAME, 'a dashboard name: 1 to 255 letters, digits, "-" or "_"');
    checkPattern(this, 'region', region, REGION, 'an AWS region code such as "eu-west-1"');
    checkPattern(this, 'functionName', functionName, FUNCTION_NAME, 'a Lambda function name: 1 to 64 letters, digits, "-" or "_"');
    checkPattern(this, 'aliasName', aliasName, ALIAS_NAME, 'a Lambda alias name: 1 to 128 letters, digits, "-" or "_", not only digits');
    checkPattern(this, 'metricsNamespace', namespace, NAMESPACE, 'a custom CloudWatch namespace: 1 to 255 letters, digits, ".", "_", "#", "/" or "-", not starting with "AWS/"');
    if (!Number.isInteger(period) || period <= 0 || period % 60 !== 0 || period > 86_400) {
      fail(this, 'period', period, 'a positive multiple of 60 up to 86400');
    }
    if (alarmArns.length > MAX_ALARMS) {
      fail(this, 'alarmArns', `${alarmArns.length} ARNs`, `at most ${MAX_ALARMS} alarms in one alarm status widget`);
    }
    alarmArns.forEach((arn, i) => checkPattern(this, `alarmArns[${i}]`, arn, ALARM_ARN, 'a CloudWatch alarm ARN, arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>'));

    const alias = ['FunctionName', functionName, 'Resource', `${functionName}:${aliasName}`] as const;
    const lambda = (metric: string, options: Record<string, unknown>): MetricRow => ['AWS/Lambda', metric, ...alias, options];
    let expressionCount = 0;
    const search = (set: 'FunctionVersion' | 'ModelVersion', metric: string, stat: string, label: string): MetricRow => [
      {
        expression: `SEARCH('{"${namespace}",FunctionName,${set}} MetricName="${metric}" FunctionName="${functionName}"', '${stat}', ${period})`,
        id: `e${++expressionCount}`,
        label,
        period,
      },
    ];
    const perVersion = (title: string, metric: string, stats: readonly (readonly [string, string])[]): Graph[] =>
      (['ModelVersion', 'FunctionVersion'] as const).map((set) => ({
        title: `${title} per ${set === 'ModelVersion' ? 'model version' : 'Lambda version'}`,
        metrics: stats.map(([stat, label]) => search(set, metric, stat, label)),
      }));

    const graphs: Graph[] = [
      { title: `Invocations (${aliasName})`, stat: 'Sum', metrics: [lambda('Invocations', { label: 'Invocations' })] },
      { title: `Errors (${aliasName})`, stat: 'Sum', metrics: [lambda('Errors', { label: 'Errors' })] },
      { title: `Throttles (${aliasName})`, stat: 'Sum', metrics: [lambda('Throttles', { label: 'Throttles' })] },
      {
        title: `Duration p50 / p90 / p99 (${aliasName})`,
        metrics: ['p50', 'p90', 'p99'].map((stat) => lambda('Duration', { stat, label: stat })),
      },
      {
        title: `Concurrency (${aliasName})`,
        stat: 'Maximum',
        metrics: [
          lambda('ConcurrentExecutions', { label: 'Concurrent executions' }),
          lambda('ProvisionedConcurrencyUtilization', { label: 'Provisioned concurrency utilization', yAxis: 'right' }),
        ],
      },
      { title: 'Cold starts per Lambda version', metrics: [search('FunctionVersion', 'ColdStart', 'Sum', 'Cold starts')] },
      ...perVersion('Request latency p50 / p99', 'RequestLatency', [['p50', 'p50'], ['p99', 'p99']]),
      ...perVersion('Inference latency p50 / p99', 'InferenceLatency', [['p50', 'p50'], ['p99', 'p99']]),
      ...perVersion('Prediction confidence average / p10', 'PredictionConfidence', [['Average', 'average'], ['p10', 'p10']]),
      { title: 'Invalid requests per Lambda version', metrics: [search('FunctionVersion', 'InvalidRequest', 'Sum', 'Invalid requests')] },
      {
        title: 'Server errors (500, 503) per Lambda version',
        metrics: [search('FunctionVersion', 'InternalError', 'Sum', 'Internal errors'), search('FunctionVersion', 'ModelUnavailable', 'Sum', 'Model unavailable')],
      },
    ];

    const widgets: Record<string, unknown>[] = [];
    let top = 0;
    if (alarmArns.length > 0) {
      widgets.push({
        type: 'alarm',
        x: 0,
        y: 0,
        width: GRID_WIDTH,
        height: ALARM_WIDGET_HEIGHT,
        properties: { title: 'Alarms', alarms: [...alarmArns], sortBy: 'stateUpdatedTimestamp' },
      });
      top = ALARM_WIDGET_HEIGHT;
    }
    const perRow = GRID_WIDTH / GRAPH.width;
    graphs.forEach((graph, i) => {
      widgets.push({
        type: 'metric',
        x: (i % perRow) * GRAPH.width,
        y: top + Math.floor(i / perRow) * GRAPH.height,
        width: GRAPH.width,
        height: GRAPH.height,
        properties: {
          title: graph.title,
          view: 'timeSeries',
          stacked: false,
          region,
          period,
          ...(graph.stat === undefined ? {} : { stat: graph.stat }),
          metrics: graph.metrics,
        },
      });
    });

    this.body = JSON.stringify({ start: '-PT3H', periodOverride: 'inherit', widgets });
    // The body goes into Terraform as base64decode("..."): cdktf's HCL output does not escape the backslashes of a
    // JSON text (the quotes in the SEARCH expressions) and mangles one that holds references, while base64 has
    // nothing to escape. Terraform decodes it at plan time to exactly this text. cdk.tf is the users' way out.
    if (Token.isUnresolved(this.body)) {
      fail(this, 'functionName, aliasName and alarmArns', 'values holding Terraform references', 'plain strings (the body is written into the HCL as base64); pass alarm ARNs written out');
    }
    const dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: name,
      dashboardBody: Fn.base64decode(Buffer.from(this.body, 'utf8').toString('base64')),
    });
    this.dashboardName = name;
    this.dashboardArn = dashboard.dashboardArn;
    this.consoleUrl = dashboardConsoleUrl(region, name);
  }
}
