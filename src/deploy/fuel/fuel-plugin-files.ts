// The Fuel 6.1 plugin (package_version 2.0.0, reference fuel-plugin.md §2): its files, as text.
// Pure: the builder writes them and packs them as fpb --build does.
import { stringify as toYaml } from 'yaml';
import { FUEL_ATTRIBUTES, PLUGIN_NAME } from './fuel-settings.js';

export interface PluginFile {
  readonly content: string;
  readonly mode: number;
}

/** `<name>-<major.minor>`: the plugin's directory on the Fuel master and its .fp's root. */
export function pluginDirName(version: string): string {
  return `${PLUGIN_NAME}-${version.split('.').slice(0, 2).join('.')}`;
}

const DEPLOY_SCRIPT = `#!/bin/bash
# A Fuel task of ${PLUGIN_NAME}: installs Brindle from the plugin's repository (Fuel has added it
# to this node's apt sources) and deploys this node with brindle deploy, from the node's Fuel
# YAML (the cluster's nodes and the plugin's settings). With --verify (the primary
# controller's last task) it then checks the cloud: etcd, agents, BGP sessions.
set -euo pipefail
exec > >(tee -a /var/log/${PLUGIN_NAME}.log) 2>&1
echo "$(date -u +%FT%TZ) $0 $*"
astute=
for f in /etc/astute.yaml /etc/primary-controller.yaml /etc/controller.yaml /etc/compute.yaml; do
  if [ -f "$f" ]; then astute=$f; break; fi
done
if [ -z "$astute" ]; then echo "${PLUGIN_NAME}: no Fuel node YAML (/etc/astute.yaml or /etc/<role>.yaml)" >&2; exit 1; fi
if ! command -v brindle >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends brindle
fi
verify=--no-verify
if [ "\${1:-}" = --verify ]; then verify=; fi
exec brindle deploy --fuel-astute "$astute" --local "$(hostname -s)" $verify
`;

const README = `# ${PLUGIN_NAME}

Brindle's networking (Calico's design: routed /32s spread by BGP, security groups as nftables or
iptables rules on every compute) for a Fuel 6.1 environment. Written by \`brindle deploy
fuel-plugin\`; see docs/deploying.md in Brindle.

- Build: \`brindle deploy fuel-plugin --out DIR --packages DEBS --build\` (as \`fpb --build\`).
- Install on the Fuel master: \`fuel plugins --install ${PLUGIN_NAME}-*.noarch.rpm\`.
- Settings: the "${PLUGIN_NAME}" group in the environment's Settings tab.
- Tasks: controllers (post_deployment/50), then computes (/100), then a check on the
  primary controller (/200); each runs \`brindle deploy --fuel-astute --local\` for its node.
`;

export function fuelPluginFiles(version: string): Map<string, PluginFile> {
  const files = new Map<string, PluginFile>();
  const text = (path: string, content: string, mode = 0o644): void => {
    files.set(path, { content, mode });
  };
  text(
    'metadata.yaml',
    toYaml({
      name: PLUGIN_NAME,
      title: "Use Brindle networking (Calico's design)",
      version,
      description: 'Routed networking for OpenStack VMs: a /32 route per VM spread by BGP, security groups on every compute host',
      fuel_version: ['6.1'],
      licenses: ['Apache License Version 2.0'],
      authors: ['Brindle developers'],
      homepage: 'file:///usr/share/doc/brindle/README.md',
      groups: ['network'],
      releases: [
        {
          os: 'ubuntu',
          version: '2014.2-6.1',
          mode: ['ha', 'multinode'],
          deployment_scripts_path: 'deployment_scripts/',
          repository_path: 'repositories/ubuntu',
        },
      ],
      package_version: '2.0.0',
    }),
  );
  text('environment_config.yaml', toYaml({ attributes: FUEL_ATTRIBUTES }));
  // Controllers first (etcd and the API), then computes: the 6.1 plugin ran computes first (reference §1.4).
  text(
    'tasks.yaml',
    toYaml([
      { role: ['primary-controller', 'controller'], stage: 'post_deployment/50', type: 'shell', parameters: { cmd: './brindle_deploy.sh', timeout: 900 } },
      { role: ['compute'], stage: 'post_deployment/100', type: 'shell', parameters: { cmd: './brindle_deploy.sh', timeout: 900 } },
      { role: ['primary-controller'], stage: 'post_deployment/200', type: 'shell', parameters: { cmd: './brindle_deploy.sh --verify', timeout: 600 } },
    ]),
  );
  text('deployment_scripts/brindle_deploy.sh', DEPLOY_SCRIPT, 0o755);
  text('repositories/ubuntu/.gitkeep', '');
  text('repositories/centos/.gitkeep', '');
  text('README.md', README);
  return files;
}
