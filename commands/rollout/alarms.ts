/** The alarm gate: which alarms under the rollout's prefix are in ALARM right now. */
import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { TRAFFIC_ALARM_SUFFIXES } from '../../functions/contract/aws-names.js';

export interface FiringAlarm {
  readonly name: string;
  readonly reason: string;
}

/**
 * Metric and composite alarms whose names start with `prefix` and whose state is ALARM, but for the alarms on the
 * traffic itself (TRAFFIC_ALARM_SUFFIXES: input drift reaches both versions, and rolling back would not cure it). The
 * state is checked again here: the API filters by it, but moto ignores StateValue when a prefix is given.
 */
export async function firingAlarms(client: CloudWatchClient, prefix: string): Promise<FiringAlarm[]> {
  const firing: FiringAlarm[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, StateValue: 'ALARM', AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: token }),
    );
    for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
      const onTraffic = alarm.AlarmName !== undefined && TRAFFIC_ALARM_SUFFIXES.some((suffix) => alarm.AlarmName!.endsWith(`-${suffix}`));
      if (alarm.AlarmName !== undefined && alarm.StateValue === 'ALARM' && !onTraffic) firing.push({ name: alarm.AlarmName, reason: alarm.StateReason ?? '' });
    }
    token = page.NextToken;
  } while (token !== undefined);
  return firing;
}
