import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentConfigError } from './errors.js';
import { dataplaneConfigFrom, intervalsFrom, parseDurationMs } from './felix-config.js';

describe('FelixConfiguration → agent settings', () => {
  it("parses Felix's durations", () => {
    assert.equal(parseDurationMs('90s', 'x'), 90_000);
    assert.equal(parseDurationMs('1m30s', 'x'), 90_000);
    assert.equal(parseDurationMs('500ms', 'x'), 500);
    assert.equal(parseDurationMs('10us', 'x'), 0.01);
    assert.equal(parseDurationMs('2', 'x'), 2_000);
    assert.throws(
      () => parseDurationMs('soon', 'reportingInterval'),
      (e: unknown) => e instanceof AgentConfigError && /reportingInterval "soon" is not a duration/.test(e.message),
    );
  });

  it('maps the fields Brindle uses and keeps defaults for the rest', () => {
    const c = dataplaneConfigFrom({
      interfacePrefix: 'tap,cali',
      defaultEndpointToHostAction: 'Accept',
      metadataAddr: 'None',
      workloadSourceSpoofing: 'Any',
      failsafeInboundHostPorts: [{ protocol: 'tcp', port: 22, net: '198.18.0.0/16' }],
    });
    assert.deepEqual(c.interfacePrefixes, ['tap', 'cali']);
    assert.equal(c.endpointToHostAction, 'ACCEPT');
    assert.equal(c.metadata, undefined);
    assert.equal(c.workloadSourceSpoofing, 'Any');
    assert.deepEqual(c.failsafeInbound, [{ protocol: 'tcp', port: 22, net: '198.18.0.0/16' }]);
    assert.equal(dataplaneConfigFrom({}).workloadSourceSpoofing, 'Disabled');
    assert.deepEqual(intervalsFrom({ iptablesRefreshInterval: '0s', reportingTTL: '2m' }), { refreshMs: 0, reportMs: 30_000, reportTtlSeconds: 120 });
  });

  it('refuses values it cannot use, naming them', () => {
    assert.throws(() => dataplaneConfigFrom({ interfacePrefix: 'tap+' }), /interfacePrefix "tap\+"/);
    assert.throws(
      () => dataplaneConfigFrom({ failsafeInboundHostPorts: [{ protocol: 'tcp', port: 22, net: '198.18.0.0/33' }] }),
      /invalid net "198\.18\.0\.0\/33"/,
    );
    assert.throws(() => dataplaneConfigFrom({ metadataAddr: 'metadata.example' }), /metadataAddr "metadata\.example"/);
  });
});
