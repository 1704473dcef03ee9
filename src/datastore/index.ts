// The datastore: one KV interface, two backends, typed resources and a syncer on top.
export * from './kv-store.js';
export * from './errors.js';
export { DatastoreAuthError } from './etcd/etcd-errors.js';
export { openDatastore, parseDatastoreSpec, describeDatastore, type DatastoreConfig, type OpenDatastoreDeps } from './open-datastore.js';
export {
  ResourceClient,
  decodeResource,
  decodeSyncedResource,
  refOf,
  describeRef,
  type ResourceAction,
  type ResourceOp,
  type ResourceRef,
  type CommitOptions,
  type CommitOutcome,
  type InvalidResource,
  type ResourceClientOptions,
} from './resource-client.js';
export { Syncer, type SyncStatus, type SyncUpdate, type SyncerOptions } from './syncer.js';
