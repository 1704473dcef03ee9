// brindle deploy: installs a cloud's network on its machines by role, over ssh.
export { inventorySchema, hasRole, ROLES, type Inventory, type Machine, type Role } from './inventory.js';
export { deploySettingsSchema, AS_MIN, AS_MAX, type DeploySettings } from './deploy-settings.js';
export { DeployInputError, DeployStepError, DeployUnreachableError, DeployVerifyError } from './errors.js';
export { deploy, type DeployReport, type DeployRequest, type StepReport } from './deployer.js';
export { loadDeployFiles, type DeployFiles } from './load-deploy-files.js';
export { planDeploy, calicoResources, BRINDLE_ETCD_TLS, type DeployPlan, type MachinePlan, type EtcdTls } from './plan-deploy.js';
export type { CheckResult } from './verify-cloud.js';
export { fromFuel, FUEL_ATTRIBUTES, PLUGIN_NAME } from './fuel/fuel-settings.js';
export { writeFuelPlugin, checkFuelPlugin, buildFuelPlugin, FuelPluginError } from './fuel/build-fuel-plugin.js';
export { validateFuelPlugin } from './fuel/validate-fuel-plugin.js';
export { fuelPluginFiles, pluginDirName } from './fuel/fuel-plugin-files.js';
