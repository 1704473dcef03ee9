// Test helpers other modules' tests may use: a real etcd, child processes on a store, the KV contract.
export { startTestEtcd, type TestEtcd, type TestEtcdOptions } from './etcd-server.js';
export { freePort } from '../../lib/index.js';
export { spawnKvChild, type KvChild } from './kv-child-process.js';
export { collectEvents } from '../kv-contract.js';
export { startTestEtcdCluster, type TestEtcdCluster, type EtcdClusterMember } from './etcd-cluster.js';
export { makeTestCerts } from './test-certs.js';
