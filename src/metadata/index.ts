// metadata: the OpenStack metadata service for Calico networks (nova-api-metadata's role when
// no Neutron metadata proxy exists): the instance is found by the request's source address.
export { startMetadataServer, type MetadataServerOptions, type RunningMetadataServer } from './metadata-server.js';
export { lookupInstance, type Instance, type NeutronEndpoint } from './instance-lookup.js';
export { openstackMetaData, ec2MetaData, ec2Listing } from './metadata-documents.js';
export { InstanceNotFoundError, NeutronLookupError } from './errors.js';
