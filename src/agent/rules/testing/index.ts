// Test helpers for the rule renderer. Imported only by tests.
export { localEndpoint } from './local-endpoint.js';
export { parsedRule } from './parsed-rule.js';
export { restoreInput } from './restore-input.js';
export { ruleLines } from './rule-lines.js';
export { fullFixture, fixtureEndpoints } from './full-fixture.js';
