// The Neutron-compatible API and the networking-calico driver behind it.
export { startNeutronApi, refuseNoauthExposure, NoauthExposedError, type NeutronApiOptions, type RunningNeutronApi } from './neutron-api.js';
export { NeutronApiError, faults } from './errors.js';
export { noAuth, type Authenticator } from './api/auth.js';
export type { PolicySource } from './api/policy-enforcement.js';
export { EXTENSIONS, type Extension } from './api/extensions.js';
export { ReloadablePolicy, PolicyError, NEUTRON_DEFAULT_RULES } from './policy/index.js';
export { keystoneAuth, UnauthorizedFault } from './api/keystone-auth.js';
export { KeystoneClient, fetchHttp, KeystoneUnavailableError, KeystoneServiceAuthError, type TokenInfo } from './keystone/index.js';
export type { HttpPost, NovaEvent } from './status/nova-notifier.js';
export { collectionPrefix, type NeutronCollection } from './store/neutron-keys.js';
