import test from 'ava';
import { adviceJson, adviceText, advise } from '../../../commands/cost/advice.js';
import { DEFAULT_ASSUMPTIONS, type Workload } from '../../../commands/cost/model.js';
import { FARGATE_PRICES, LAMBDA_PC_PRICES, LAMBDA_PRICES, SAGEMAKER_SERVERLESS_PRICES } from '../../../commands/pricing/prices.js';

const traffic = { avgRps: 10, peakRps: 10, hoursPerDay: 24, daysPerMonth: 30 };
const workload: Workload = { arch: 'arm64', memoryMb: 1024, durationMs: 2, billedMs: 2, initMs: 100, rowsPerRequest: 1, payloadBytes: 2048 };

test('the table says where every price comes from and how old it is', (t) => {
  const text = adviceText(advise(traffic, workload, DEFAULT_ASSUMPTIONS, 'hand'));
  for (const prices of [LAMBDA_PRICES, LAMBDA_PC_PRICES, SAGEMAKER_SERVERLESS_PRICES, FARGATE_PRICES]) t.true(text.includes(`as of ${prices.asOf}, ${prices.source}`), prices.source);
  t.true(text.includes('data-processed price unverified'));
  t.regex(text, /Fargate, always on +\$28\.84/);
});

test('an option that cannot serve the workload is priced as n/a in the table and null in the JSON', (t) => {
  const advice = advise(traffic, { ...workload, memoryMb: 8192 }, DEFAULT_ASSUMPTIONS, 'hand');
  t.regex(adviceText(advice), /SageMaker Serverless Inference +n\/a/);
  const json = adviceJson(advice) as { options: { option: string; monthlyUsd: number | null }[] };
  t.is(json.options.find((o) => o.option === 'sagemaker-serverless')!.monthlyUsd, null);
});
