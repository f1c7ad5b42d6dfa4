/**
 * `npm run rollout -- --environment <env> [--model <name>]` as a process, with the project's own infra/config.ts:
 * the function and alarm prefix come from the configuration and reach AWS (moto), and an unknown environment is
 * refused before any AWS call.
 */
import test from 'ava';
import { deploymentNames, loadAppConfig, modelDeployments } from '../../../infra/config.js';
import { createDemoFunction } from '../../../tools/rollout-demo-bed.js';
import { startMoto, type Moto } from '../../helpers/moto.js';
import { runNpm } from '../../helpers/npm.js';
import { aliasRouting, clients, destroy, motoEnv } from '../../helpers/rollout-bed.js';

let moto: Moto;

test.before(async () => {
  moto = await startMoto();
});

test.after.always(async () => {
  await moto?.stop();
});

test('--environment rolls out the function infra/config.ts names, watching its alarm prefix', async (t) => {
  const config = loadAppConfig();
  const dev = config.environments.find((e) => e.name === 'dev')!;
  const deployment = modelDeployments(dev)[0]!;
  const names = deploymentNames(config.project, dev.name, deployment);
  const all = clients(moto.endpoint);
  const bed = await createDemoFunction(all, names.functionName, 2).finally(() => destroy(all));
  const model = deployment.name === undefined ? [] : ['--model', deployment.name];

  const run = await runNpm('rollout', ['--environment', 'dev', ...model, '--to', '2', '--dry-run', '--skip-traffic-check', '--json'], motoEnv(moto.endpoint));
  t.is(run.code, 0, `${run.stdout}${run.stderr}`);
  t.regex(run.stderr, new RegExp(`^rollout: dev\\S* \\(infra/config\\.ts\\): --function ${names.functionName} --alias live --alarm-prefix ${names.alarmPrefix} --build \\S+$`, 'm'));
  const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const plan = events.find((e) => e['event'] === 'plan');
  t.like(plan, { event: 'plan', functionName: names.functionName, alias: 'live', stable: '1', canary: '2' });
  t.true(String(plan?.['message']).includes(`alarms "${names.alarmPrefix}*"`), String(plan?.['message']));
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} }, 'a dry run changes nothing');
});

test('an environment infra/config.ts does not have is refused with the choices, exit 1', async (t) => {
  const run = await runNpm('rollout', ['--environment', 'staging', '--to', '2'], motoEnv(moto.endpoint));
  t.is(run.code, 1);
  t.regex(run.stderr, /^rollout: --environment is "staging"; expected one of the environments in infra\/config\.ts: dev, prod$/m);
});
