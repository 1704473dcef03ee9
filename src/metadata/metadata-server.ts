import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { describeError, type Logger } from '../lib/index.js';
import { InstanceNotFoundError } from './errors.js';
import { lookupInstance, type Instance, type NeutronEndpoint } from './instance-lookup.js';
import { ec2Listing, ec2MetaData, openstackMetaData } from './metadata-documents.js';

export interface MetadataServerOptions {
  readonly listen: { readonly host: string; readonly port: number };
  readonly neutron: NeutronEndpoint;
  readonly logger: Logger;
  /** The lookup seam (tests); default: Neutron's port list. */
  readonly lookup?: (address: string) => Promise<Instance>;
}

export interface RunningMetadataServer {
  readonly url: string;
  close(): Promise<void>;
}

const OPENSTACK_VERSIONS = ['2012-08-10', '2013-04-04', '2013-10-17', '2015-10-15', '2016-06-30', '2016-10-06', '2017-02-22', '2018-08-27', 'latest'];
const EC2_VERSIONS = ['1.0', '2007-01-19', '2009-04-04', 'latest'];

/** The address a request came from (the VM's: the agent's DNAT keeps the source). */
function sourceOf(remote: string | undefined): string {
  return (remote ?? '').replace(/^::ffff:/, '');
}

/**
 * The OpenStack metadata service as nova-api-metadata serves it when Neutron has no metadata
 * proxy in front (Calico's way): a request is for the instance whose port holds the request's
 * source address (the agent DNATs 169.254.169.254:80 here and keeps the source; its reverse-path
 * filter drops a VM that spoofs another's address before it gets here).
 */
export async function startMetadataServer(o: MetadataServerOptions): Promise<RunningMetadataServer> {
  const app: FastifyInstance = Fastify({ logger: false });
  const lookup = o.lookup ?? ((address: string) => lookupInstance(o.neutron, address));
  const withInstance = async (remote: string | undefined, reply: FastifyReply, fn: (i: Instance) => unknown): Promise<unknown> => {
    const source = sourceOf(remote);
    try {
      return fn(await lookup(source));
    } catch (err) {
      if (err instanceof InstanceNotFoundError) return reply.code(404).type('text/plain').send('Instance not found\n');
      o.logger.warn({ source, err: describeError(err) }, 'metadata lookup failed');
      return reply.code(503).type('text/plain').send('Metadata service unavailable: cannot reach Neutron\n');
    }
  };
  app.get('/', async (_req, reply) => reply.type('text/plain').send(`${EC2_VERSIONS.join('\n')}\nopenstack\n`));
  app.get('/openstack', async (_req, reply) => reply.type('text/plain').send(`${OPENSTACK_VERSIONS.join('\n')}\n`));
  app.get('/openstack/:version', async (req, reply) => {
    const { version } = req.params as { version: string };
    if (!OPENSTACK_VERSIONS.includes(version)) return reply.code(404).send();
    return reply.type('text/plain').send('meta_data.json\nnetwork_data.json\n');
  });
  app.get('/openstack/:version/meta_data.json', async (req, reply) => {
    const { version } = req.params as { version: string };
    if (!OPENSTACK_VERSIONS.includes(version)) return reply.code(404).send();
    return withInstance(req.socket.remoteAddress, reply, (i) => reply.type('application/json').send(JSON.stringify(openstackMetaData(i))));
  });
  app.get('/openstack/:version/network_data.json', async (req, reply) => {
    const { version } = req.params as { version: string };
    if (!OPENSTACK_VERSIONS.includes(version)) return reply.code(404).send();
    return withInstance(req.socket.remoteAddress, reply, () => reply.type('application/json').send('{"links":[],"networks":[],"services":[]}'));
  });
  app.get('/:version/meta-data/*', async (req, reply) => {
    const { version, '*': rest } = req.params as { version: string; '*': string };
    if (!EC2_VERSIONS.includes(version)) return reply.code(404).send();
    return withInstance(req.socket.remoteAddress, reply, (i) => {
      const items = ec2MetaData(i);
      const path = rest.replace(/\/+$/, '');
      const value = items[path];
      if (value !== undefined && !rest.endsWith('/')) return reply.type('text/plain').send(value);
      const listing = ec2Listing(items, path);
      return listing === undefined ? reply.code(404).type('text/plain').send('Not found\n') : reply.type('text/plain').send(`${listing.join('\n')}\n`);
    });
  });
  await app.listen({ host: o.listen.host, port: o.listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : o.listen.port;
  o.logger.info({ host: o.listen.host, port }, 'metadata service listening');
  return { url: `http://${o.listen.host}:${port}`, close: () => app.close() };
}
