import test from 'ava';
import { recoveryCommands } from '../../../commands/rollout/recovery.js';

const OPTIONS = { functionName: 'onnx-lambda-dev-diabetes-predict', alias: 'live', steps: [10, 50, 100], intervalS: 300, thresholds: { minRequests: 100 }, alarmPrefix: 'onnx-lambda-dev-diabetes-' };

test('the resume command repeats the build folder of a listed model, whose golden rows are not in dist', (t) => {
  const { resume } = recoveryCommands({ ...OPTIONS, build: 'dist/diabetes' }, '7');
  t.regex(resume, / --build dist\/diabetes --resume$/);
});

test('the resume command leaves out the default build folder', (t) => {
  t.notRegex(recoveryCommands({ ...OPTIONS, build: 'dist' }, '7').resume, /--build/);
});
