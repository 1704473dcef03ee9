// The lab: a virtual data center in network namespaces (so far: namespaces and veth plumbing).
export { Netns, createNetns, deleteNetns, listNetns, connectVeth } from './netns.js';
export { LabCommandError } from './errors.js';
