// Test doubles for the lib shims. Imported only by tests.
export { FakeClock } from './shims/testing/fake-clock.js';
