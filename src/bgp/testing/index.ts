// Test helpers of the bgp module. Imported only by tests.
export { calicoNode, bgpPeer, bgpConfiguration, type NodeOptions } from './fixtures.js';
export { GOLDEN_CASES, type GoldenCase } from './golden-cases.js';
