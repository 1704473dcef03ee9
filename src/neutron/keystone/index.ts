// Keystone v3: validating callers' tokens, and Brindle's own service token.
export { KeystoneClient, fetchHttp, type KeystoneHttp, type KeystoneOptions, type TokenInfo } from './keystone-client.js';
export { KeystoneServiceAuthError, KeystoneUnavailableError } from './keystone-errors.js';
