/** Test helper: a `ParsedRule` with every list empty, overridden by `fields`. */
import type { ParsedRule } from '../../calc/model.js';

export function parsedRule(fields: Partial<ParsedRule> = {}): ParsedRule {
  return {
    action: 'Allow',
    srcNets: [],
    notSrcNets: [],
    dstNets: [],
    notDstNets: [],
    srcIpSetIds: [],
    notSrcIpSetIds: [],
    dstIpSetIds: [],
    notDstIpSetIds: [],
    srcPorts: [],
    notSrcPorts: [],
    dstPorts: [],
    notDstPorts: [],
    ...fields,
  };
}
