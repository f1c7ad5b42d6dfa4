import test from 'ava';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { ALARM_SUFFIX } from '../../../functions/contract/aws-names.js';
import { firingAlarms } from '../../../commands/rollout/alarms.js';
import { startMoto, type Moto } from '../../helpers/moto.js';

let moto: Moto;
test.before(async () => {
  moto = await startMoto();
});
test.after.always(async () => {
  await moto?.stop();
});

async function alarmInState(client: CloudWatchClient, name: string): Promise<void> {
  await client.send(new PutMetricAlarmCommand({ AlarmName: name, Namespace: 'OnnxLambda', MetricName: 'M', Statistic: 'Average', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }));
  await client.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'ALARM', StateReason: 'test' }));
}

test('the alarm gate leaves out the input-drift alarm, which the stable version and a canary share, and keeps the rest', async (t) => {
  const client = new CloudWatchClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  t.teardown(() => client.destroy());
  await alarmInState(client, `onnx-lambda-dev-${ALARM_SUFFIX.errorRate}`);
  await alarmInState(client, `onnx-lambda-dev-${ALARM_SUFFIX.outOfTrainingRange}`);
  t.deepEqual((await firingAlarms(client, 'onnx-lambda-dev-')).map((a) => a.name), [`onnx-lambda-dev-${ALARM_SUFFIX.errorRate}`]);
});
