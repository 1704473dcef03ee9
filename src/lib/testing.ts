// Test doubles and helpers for the lib shims. Imported only by tests.
export { FakeClock } from './shims/testing/fake-clock.js';
export { trackChild, trackChildTree, trackTempDir, untrackTempDir } from './shims/testing/cleanup-registry.js';
export { trackNetns, untrackNetns, trackMount, untrackMount, trackCgroup, untrackCgroup, killCgroup } from './shims/testing/cleanup-registry.js';
export { makeTestNetns, type TestNetns } from './shims/testing/test-netns.js';
export { eventually } from './shims/testing/eventually.js';
export { untilPasses } from './shims/testing/until-passes.js';
export { projectRoot } from './shims/testing/project-root.js';
export { recordingLogger, type LoggedLine } from './shims/testing/recording-logger.js';
