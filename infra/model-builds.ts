/**
 * The builds the configuration deploys: for every environment, each listed model's bundle built into its own
 * folder (`<distDir>/<model>/` unless it names one), or the default bundle into `distDir` for an environment that
 * lists none. `npm run build` runs them all when the configuration lists models, `npm run synth` (ensure-build.ts)
 * the ones whose build.json is missing.
 */
import path from 'node:path';
import { PROJECT_ROOT } from './build-record.js';
import { modelDeployments, type AppConfig } from './config.js';
import { SettingError } from './errors.js';

export interface PlannedBuild {
  /** The folder build.json goes to, absolute. */
  readonly outDir: string;
  /** `npm run build` arguments that make it. */
  readonly args: readonly string[];
  /** Who deploys it: `dev`, `dev/iris`, ... */
  readonly deployedBy: readonly string[];
}

/** Whether any environment lists its models (npm run build then builds them all). */
export function listsModels(config: AppConfig): boolean {
  return config.environments.some((environment) => environment.models !== undefined);
}

/**
 * The builds `config` deploys, one per folder, in configuration order; `only` keeps one environment's. Two
 * deployments of one folder must agree on every argument, or the folder would hold whichever was built last.
 */
export function plannedBuilds(config: AppConfig, only?: string): readonly PlannedBuild[] {
  const environments = only === undefined ? config.environments : config.environments.filter((e) => e.name === only);
  if (environments.length === 0) {
    throw new SettingError('config', 'environments[].name', only, `one of ${config.environments.map((e) => e.name).join(', ')}`);
  }
  const plans = new Map<string, { args: readonly string[]; deployedBy: string[] }>();
  for (const environment of environments) {
    for (const model of modelDeployments(environment)) {
      const outDir = path.resolve(PROJECT_ROOT, model.distDir);
      const args = [
        ...(model.bundle === undefined ? [] : ['--model', path.resolve(PROJECT_ROOT, model.bundle), '--package', model.packaging]),
        ...(model.ephemeralStorageMb === undefined || model.bundle === undefined ? [] : ['--ephemeral-storage-mb', String(model.ephemeralStorageMb)]),
        '--arch',
        environment.arch,
        '--runtime',
        environment.runtime,
        '--out',
        outDir,
      ];
      const label = model.name === undefined ? environment.name : `${environment.name}/${model.name}`;
      const planned = plans.get(outDir);
      if (planned === undefined) {
        plans.set(outDir, { args, deployedBy: [label] });
      } else if (planned.args.join('\0') !== args.join('\0')) {
        throw new SettingError(
          `environments[${environment.name}]`,
          model.name === undefined ? 'distDir' : `models[${model.name}].distDir`,
          model.distDir,
          `a build folder of its own: ${planned.deployedBy.join(', ')} deploys it with other build settings (npm run build -- ${planned.args.join(' ')})`,
        );
      } else {
        planned.deployedBy.push(label);
      }
    }
  }
  return [...plans].map(([outDir, { args, deployedBy }]) => Object.freeze({ outDir, args: Object.freeze(args), deployedBy: Object.freeze(deployedBy) }));
}

/** The flags `npm run build` takes when it builds what the configuration deploys. */
const CONFIGURED_FLAGS = new Set(['--environment', '--allow-missing-golden']);

/**
 * The builds `npm run build -- <argv>` makes from the configuration, or undefined when it builds one bundle as told
 * (`--model`, `--out` or any other per-bundle flag, or a configuration that lists no models). `--environment <name>`
 * keeps that environment's builds; `--allow-missing-golden` applies to each.
 */
export function configuredBuilds(argv: readonly string[], config: AppConfig): readonly PlannedBuild[] | undefined {
  const flags = argv.filter((arg) => arg.startsWith('--')).map((arg) => arg.split('=')[0]!);
  const environmentAt = argv.findIndex((arg) => arg === '--environment' || arg.startsWith('--environment='));
  if (environmentAt < 0 && (!listsModels(config) || flags.some((flag) => !CONFIGURED_FLAGS.has(flag)))) return undefined;
  const other = flags.find((flag) => !CONFIGURED_FLAGS.has(flag));
  if (other !== undefined) {
    throw new SettingError('npm run build', other, argv.join(' '), '--environment <name> and --allow-missing-golden only: the configuration (infra/config.ts) sets each model\'s bundle, packaging, architecture and folder', 'Leave --environment out to build one bundle as the flags say');
  }
  const raw = argv[environmentAt];
  const environment = raw === undefined ? undefined : raw.includes('=') ? raw.slice(raw.indexOf('=') + 1) : argv[environmentAt + 1];
  if (environmentAt >= 0 && (environment === undefined || environment.startsWith('--') || environment === '')) {
    throw new SettingError('npm run build', '--environment', environment, `the name of an environment in infra/config.ts: ${config.environments.map((e) => e.name).join(', ')}`);
  }
  const extra = argv.includes('--allow-missing-golden') ? ['--allow-missing-golden'] : [];
  return plannedBuilds(config, environment).map((planned) => ({ ...planned, args: [...planned.args, ...extra] }));
}
