// The lab: a virtual data center in network namespaces, driven through the Neutron API.
export { Netns, createNetns, deleteNetns, listNetns, connectVeth } from './netns.js';
export { Lab, type LabDeps, type LabOptions, type LabHost, type LabVm, type LabBorder, type LabCloud, type VmIp, type AddVmSpec } from './lab-topology.js';
export { VIF, tapName, isLabAddress } from './vif.js';
export { probe, checkConnectivity, startResponder, PROBE_MAIN, type ProbeKind, type ProbeOptions, type ProbeOutcome, type Responder } from './probe.js';
export { runMatrix, formatMatrix, type MatrixCheck, type MatrixResult } from './connectivity-matrix.js';
export {
  NeutronClient,
  type NeutronClientOptions,
  type Network,
  type Subnet,
  type SecurityGroup,
  type SecurityGroupRule,
  type Port,
  type CreateNetworkBody,
  type CreateSubnetBody,
  type CreateSecurityGroupBody,
  type CreateSecurityGroupRuleBody,
  type CreatePortBody,
  type UpdatePortBody,
} from './neutron-client.js';
export { bootVm, deleteVm, type BootVmSpec, type BootedVm } from './lab-api.js';
export { LabCommandError, LabInputError, LabPrefixInUseError, LabStateError, LabProbeError, LabApiError, LabBindingError, LabProcessError } from './errors.js';
export { LabCluster, BRINDLE_BIN, type LabClusterOptions } from './lab-cluster.js';
export { runDemo, demoChecks, type DemoDeps, type DemoResult } from './demo-scenario.js';
export { borderBirdConfig, startBorderBird, LAB_AS } from './border-router.js';
export { configureLabBgp, type LabBgpPlan } from './lab-bgp.js';
export { buildDataCenter, LAB_RR_CLUSTER_ID, LAB_NETWORK, type DataCenterPlan } from './data-center.js';
export { labStatus, formatLabStatus, formatLabPicture, type LabStatus } from './lab-status.js';
export { BORDER } from './border-plumbing.js';
export { LAB_EXTERNAL, setUpExternalNetwork, addFloatingIp, removeFloatingIps } from './floating-ips.js';
export { UDHCPC_SCRIPT } from './dhcp-client.js';
