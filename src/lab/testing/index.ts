// Test helpers for the lab's tests (and others' that use the lab).
export { startLabTestApi, type LabTestApi } from './api-server.js';
export { startLabCloud, type LabCloud } from './lab-cloud.js';
export { programByHand } from './program-by-hand.js';
export { startSourceReporter, askSourceReporter } from './source-reporter.js';
export { labDataplane, rulesetText, setMembers, ruleCounters, unknownIfaceDrops, reversePathRule, type LabDataplane } from './host-dataplane.js';
