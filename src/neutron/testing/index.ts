// Test helpers for the Neutron API (a real server, a fake agent, a fake Nova).
export { startTestApi, fakeAgentAlive, startFakeNova, type TestApi, type CallResult, type FakeNova } from './api-harness.js';
export { eventually } from '../../lib/testing.js';
export { startTestKeystone, KEYSTONE_ADMIN_PASSWORD, type TestKeystone } from './keystone-server.js';
