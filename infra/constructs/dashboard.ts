/**
 * One CloudWatch dashboard for one environment of the inference service: traffic and health of the alias from
 * AWS/Lambda, and the function's own EMF metrics per model version and per Lambda version.
 *
 * AWS/Lambda metrics are read per alias, under FunctionName + Resource = `<function>:<alias>` (aws/aws-cdk#3728).
 * The EMF metrics exist only under their full dimension sets, [FunctionName, FunctionVersion] and
 * [FunctionName, ModelVersion] (functions/contract/metrics.ts), and the versions are not known at synth time, so
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
import { ALIAS_NAME_PATTERN, ALIAS_NAME_RULE, FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE, LIVE_ALIAS } from '../../functions/contract/aws-names.js';
import { DEFAULT_METRICS_NAMESPACE, METRICS_NAMESPACE_PATTERN, METRICS_NAMESPACE_RULE } from '../../functions/contract/env.js';
import { DIMENSION, LAMBDA_DIMENSION, LAMBDA_METRIC, LAMBDA_NAMESPACE, METRIC, aliasResource, type MetricName } from '../../functions/contract/metrics.js';
import { fail, matchingLiteral, periodSeconds } from '../validators.js';

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
   * The models of an environment that serves several: a titled block of graphs for each, one model after another
   * (each its own function), under one alarm widget. `functionName` is then ignored.
   * @default one block for `functionName`, untitled
   */
  readonly models?: readonly DashboardModel[] | undefined;
  /**
   * Alias that receives the traffic.
   * @default LIVE_ALIAS ("live")
   */
  readonly aliasName?: string | undefined;
  /**
   * Namespace of the function's EMF metrics (its `METRICS_NAMESPACE`).
   * @default DEFAULT_METRICS_NAMESPACE, the function's own default
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

/** One model's block of a dashboard. */
export interface DashboardModel {
  /** The block's title. */
  readonly name: string;
  readonly functionName: string;
}

/** The CloudWatch console page of a dashboard. */
export function dashboardConsoleUrl(region: string, name: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${name}`;
}

const DEFAULT_PERIOD_SECONDS = 60;
/** An alarm status widget lists at most 100 alarms. */
const MAX_ALARMS = 100;
const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ALARM_ARN = /^arn:[a-z-]+:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/;

/** Grid geometry: CloudWatch dashboards are 24 units wide. */
const GRID_WIDTH = 24;
const GRAPH = { width: 12, height: 6 } as const;
const ALARM_WIDGET_HEIGHT = 4;
const TITLE_HEIGHT = 1;

type MetricRow = readonly unknown[];
interface Graph {
  readonly title: string;
  readonly metrics: readonly MetricRow[];
  /** Default statistic of plain metric rows. */
  readonly stat?: string;
}

/** a0, b0, a1, b1, ...: two lists of graphs side by side, one pair per dashboard row. */
function zip(a: readonly Graph[], b: readonly Graph[]): Graph[] {
  return a.flatMap((graph, i) => (b[i] === undefined ? [graph] : [graph, b[i]]));
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
    const aliasName = props.aliasName ?? LIVE_ALIAS;
    const namespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    const period = props.period ?? DEFAULT_PERIOD_SECONDS;
    const alarmArns = props.alarmArns ?? [];
    const { name, region } = props;
    const models: readonly DashboardModel[] = props.models ?? [{ name: '', functionName: props.functionName }];

    matchingLiteral(this, 'name', name, NAME, 'a dashboard name: 1 to 255 letters, digits, "-" or "_"');
    matchingLiteral(this, 'region', region, REGION, 'an AWS region code such as "eu-west-1"');
    if (models.length === 0) fail(this, 'models', models, 'one or more models, or leave it unset for functionName alone');
    models.forEach((model, i) => matchingLiteral(this, props.models === undefined ? 'functionName' : `models[${i}].functionName`, model.functionName, FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE));
    matchingLiteral(this, 'aliasName', aliasName, ALIAS_NAME_PATTERN, ALIAS_NAME_RULE);
    matchingLiteral(this, 'metricsNamespace', namespace, METRICS_NAMESPACE_PATTERN, METRICS_NAMESPACE_RULE);
    periodSeconds(this, 'period', period);
    if (alarmArns.length > MAX_ALARMS) {
      fail(this, 'alarmArns', `${alarmArns.length} ARNs`, `at most ${MAX_ALARMS} alarms in one alarm status widget`);
    }
    alarmArns.forEach((arn, i) => matchingLiteral(this, `alarmArns[${i}]`, arn, ALARM_ARN, 'a CloudWatch alarm ARN, arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>'));

    let expressionCount = 0;
    const graphsFor = (functionName: string): Graph[] => {
      const alias = [LAMBDA_DIMENSION.FunctionName, functionName, LAMBDA_DIMENSION.Resource, aliasResource(functionName, aliasName)] as const;
      const lambda = (metric: string, options: Record<string, unknown>): MetricRow => [LAMBDA_NAMESPACE, metric, ...alias, options];
      type VersionDimension = typeof DIMENSION.FunctionVersion | typeof DIMENSION.ModelVersion;
      const search = (set: VersionDimension, metric: MetricName, stat: string, label: string): MetricRow => [
        {
          expression: `SEARCH('{"${namespace}",${DIMENSION.FunctionName},${set}} MetricName="${metric}" ${DIMENSION.FunctionName}="${functionName}"', '${stat}', ${period})`,
          id: `e${++expressionCount}`,
          label,
          period,
        },
      ];
      const perVersion = (title: string, metric: MetricName, stats: readonly (readonly [string, string])[]): Graph[] =>
        ([DIMENSION.ModelVersion, DIMENSION.FunctionVersion] as const).map((set) => ({
          title: `${title} per ${set === DIMENSION.ModelVersion ? 'model version' : 'Lambda version'}`,
          metrics: stats.map(([stat, label]) => search(set, metric, stat, label)),
        }));

      return [
        { title: `Invocations (${aliasName})`, stat: 'Sum', metrics: [lambda(LAMBDA_METRIC.Invocations, { label: 'Invocations' })] },
        { title: `Errors (${aliasName})`, stat: 'Sum', metrics: [lambda(LAMBDA_METRIC.Errors, { label: 'Errors' })] },
        { title: `Throttles (${aliasName})`, stat: 'Sum', metrics: [lambda(LAMBDA_METRIC.Throttles, { label: 'Throttles' })] },
        {
          title: `Duration p50 / p90 / p99 (${aliasName})`,
          metrics: ['p50', 'p90', 'p99'].map((stat) => lambda(LAMBDA_METRIC.Duration, { stat, label: stat })),
        },
        {
          title: `Concurrency (${aliasName})`,
          stat: 'Maximum',
          metrics: [
            lambda(LAMBDA_METRIC.ConcurrentExecutions, { label: 'Concurrent executions' }),
            lambda(LAMBDA_METRIC.ProvisionedConcurrencyUtilization, { label: 'Provisioned concurrency utilization', yAxis: 'right' }),
          ],
        },
        { title: 'Cold starts per Lambda version', metrics: [search(DIMENSION.FunctionVersion, METRIC.ColdStart, 'Sum', 'Cold starts')] },
        ...perVersion('Request latency p50 / p99', METRIC.RequestLatency, [['p50', 'p50'], ['p99', 'p99']]),
        ...perVersion('Inference latency p50 / p99', METRIC.InferenceLatency, [['p50', 'p50'], ['p99', 'p99']]),
        // Drift beside confidence, row by row: per model version, then per Lambda version.
        ...zip(
          perVersion('Prediction confidence average / p10', METRIC.PredictionConfidence, [['Average', 'average'], ['p10', 'p10']]),
          perVersion('Values outside the training range, % average / max', METRIC.OutOfTrainingRange, [['Average', 'average'], ['Maximum', 'max']]),
        ),
        { title: 'Invalid requests per Lambda version', metrics: [search(DIMENSION.FunctionVersion, METRIC.InvalidRequest, 'Sum', 'Invalid requests')] },
        {
          title: 'Server errors (500, 503) per Lambda version',
          metrics: [
            search(DIMENSION.FunctionVersion, METRIC.InternalError, 'Sum', 'Internal errors'),
            search(DIMENSION.FunctionVersion, METRIC.ModelUnavailable, 'Sum', 'Model unavailable'),
          ],
        },
      ];
    };

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
    for (const model of models) {
      if (props.models !== undefined) {
        widgets.push({ type: 'text', x: 0, y: top, width: GRID_WIDTH, height: TITLE_HEIGHT, properties: { markdown: `## ${model.name} (${model.functionName})` } });
        top += TITLE_HEIGHT;
      }
      const graphs = graphsFor(model.functionName);
      graphs.forEach((graph, i) => widgets.push(metricWidget(graph, (i % perRow) * GRAPH.width, top + Math.floor(i / perRow) * GRAPH.height)));
      top += Math.ceil(graphs.length / perRow) * GRAPH.height;
    }
    function metricWidget(graph: Graph, x: number, y: number): Record<string, unknown> {
      return {
        type: 'metric',
        x,
        y,
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
      };
    }

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
