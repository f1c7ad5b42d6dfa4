/**
 * The cdktf app (cdktf.json "app"): a bootstrap stack and one service stack per environment in infra/config.ts.
 *
 * `npm run synth` runs infra/ensure-build.ts first, which builds only an environment whose build.json is missing,
 * then `cdktf synth --hcl`. It does not rebuild every time on purpose: dist/ records the options of the build a
 * person chose to deploy (model bundle, packaging, ephemeral budget, arch), and a rebuild with defaults would
 * silently replace that model. When the build is for another arch or runtime, synth fails and says which
 * `npm run build` to rerun. Synth itself only reads build.json and the files it lists.
 *
 * `npm run deploy -- <stack>` deploys that HCL (`cdktf deploy --skip-synth`): a plain `cdktf deploy` would write
 * cdk.tf.json beside cdk.tf, and Terraform would load both and find every resource declared twice.
 */
import { App } from 'cdktf';
import { loadAppConfig } from './config.js';
import { BootstrapStack, bootstrapProps } from './stacks/bootstrap-stack.js';
import { ServiceStack } from './stacks/service-stack.js';

const config = loadAppConfig();
const app = new App();
new BootstrapStack(app, 'bootstrap', bootstrapProps(config));
for (const environment of config.environments) {
  new ServiceStack(app, environment.name, { project: config.project, state: config.state, environment });
}
app.synth();
