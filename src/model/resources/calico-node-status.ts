import { z } from 'zod';
import { clusterResourceWithStatusSchema, ipSchema, nameSchema } from './common.js';

/** What a CalicoNodeStatus asks the node to report (Calico's `NodeStatusClassType`). */
export const NODE_STATUS_CLASSES = ['Agent', 'BGP', 'Routes'] as const;

/** BGP session states as Calico reports them (the BIRD session state names). */
export const BGP_SESSION_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established', 'Close'] as const;

/** How a peer came to be configured (Calico's `BGPPeerType`). */
export const BGP_PEER_TYPES = ['NodeMesh', 'NodePeer', 'GlobalPeer', 'RouteReflector', 'RouteReflectorClient'] as const;

const rfc3339 = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time like 2026-12-06T03:01:02Z' });

export const calicoNodeStatusSpecSchema = z.strictObject({
  node: nameSchema,
  classes: z.array(z.enum(NODE_STATUS_CLASSES)),
  /** How often the node rewrites the status; 0 or absent means it does not. */
  updatePeriodSeconds: z.number().int().min(0).optional(),
});

const birdInfoSchema = z.strictObject({
  state: z.enum(['Ready', 'NotReady']),
  version: z.string().optional(),
  routerID: z.string().optional(),
  lastBootTime: z.string().optional(),
  lastReconfigurationTime: z.string().optional(),
  /** Brindle's addition: why BIRD refused the latest rendered configuration (the previous one runs). */
  lastConfigError: z.string().optional(),
});

const peerSchema = z.strictObject({
  peerIP: ipSchema,
  type: z.enum(BGP_PEER_TYPES),
  state: z.enum(BGP_SESSION_STATES),
  since: z.string().optional(),
  /** Brindle's addition: free text such as BIRD's info column or the session's last error. */
  info: z.string().optional(),
});

const routeSchema = z.strictObject({
  type: z.enum(['FIB', 'RIB']),
  destination: z.string(),
  gateway: z.string(),
  interface: z.string(),
  learnedFrom: z
    .strictObject({
      sourceType: z.enum(['Kernel', 'Static', 'Direct', 'NodeMesh', 'BGPPeer']),
      peerIP: ipSchema.optional(),
    })
    .optional(),
});

const count = z.number().int().min(0);

export const calicoNodeStatusStatusSchema = z.strictObject({
  lastUpdated: rfc3339.optional(),
  agent: z.strictObject({ birdV4: birdInfoSchema.optional(), birdV6: birdInfoSchema.optional() }).optional(),
  bgp: z
    .strictObject({
      numberEstablishedV4: count,
      numberEstablishedV6: count,
      numberNotEstablishedV4: count,
      numberNotEstablishedV6: count,
      peersV4: z.array(peerSchema).optional(),
      peersV6: z.array(peerSchema).optional(),
    })
    .optional(),
  routes: z.strictObject({ routesV4: z.array(routeSchema).optional(), routesV6: z.array(routeSchema).optional() }).optional(),
});

export const calicoNodeStatusSchema = clusterResourceWithStatusSchema('CalicoNodeStatus', calicoNodeStatusSpecSchema, calicoNodeStatusStatusSchema);
export type CalicoNodeStatus = z.infer<typeof calicoNodeStatusSchema>;
