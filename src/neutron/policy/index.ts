// Neutron's policy in oslo.policy's language: parsing, Neutron's default rules, an operator's
// override file (reloadable), and deciding a rule for a caller and a target.
export { parseCheck, referencedRules, type Check } from './check.js';
export { NEUTRON_DEFAULT_RULES } from './default-rules.js';
export { PolicyError, type PolicyErrorCode } from './policy-errors.js';
export { loadPolicy, parsePolicyFile } from './policy-file.js';
export { CallerPolicy, Policy, type Credentials, type Decision, type Target } from './policy.js';
export { ReloadablePolicy } from './reloadable-policy.js';
