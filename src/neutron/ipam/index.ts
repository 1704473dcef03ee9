export { planSubnet, type AllocationPool, type SubnetPlan, type SubnetPlanInput } from './subnet-plan.js';
export { pickAddress, type TakenAddresses } from './pick-address.js';
export { cidrToRange, ipToBigInt, bigIntToIp, rangesOverlap, rangeContains, normalizeCidr, type IpRange } from './ip-range.js';
export { eui64Address } from './eui64.js';
