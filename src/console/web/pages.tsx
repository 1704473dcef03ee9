import type { EndpointSummary, HostDetail, HostSummary, NetworkSummary, Overview, Paged, Topology, VmDetail } from '../api-types.js';
import { useLive } from './api.js';
import { ago, Badge, duration, href, Loaded, Pager, Search, StateBadge, TableHead } from './components.js';

export interface PageProps {
  path: string[];
  query: URLSearchParams;
  navigate: (hash: string) => void;
}

export function OverviewPage() {
  const live = useLive<Overview>('/api/overview', ['hosts', 'endpoints', 'networks', 'settings']);
  return (
    <Loaded live={live}>
      {(o) => (
        <section aria-labelledby="overview-h">
          <h1 id="overview-h">Overview</h1>
          <dl class="tiles">
            <div>
              <dt>Hosts alive</dt>
              <dd data-testid="hosts-alive">
                {o.hostsAlive} / {o.hosts}
              </dd>
            </div>
            <div>
              <dt>BGP sessions up</dt>
              <dd>
                {o.sessionsEstablished} / {o.sessionsEstablished + o.sessionsDown}
              </dd>
            </div>
            <div>
              <dt>VM ports up</dt>
              <dd>
                {o.endpointsUp} / {o.endpoints}
              </dd>
            </div>
            <div>
              <dt>Networks</dt>
              <dd>{o.networks}</dd>
            </div>
            <div>
              <dt>AS number</dt>
              <dd>{o.asNumber}</dd>
            </div>
            <div>
              <dt>Topology</dt>
              <dd>
                {o.mesh ? 'full mesh' : 'no mesh'}
                {o.reflectors > 0 ? `, ${o.reflectors} route reflector${o.reflectors === 1 ? '' : 's'}` : ''}
              </dd>
            </div>
          </dl>
          {o.invalid.length > 0 && (
            <>
              <h2>Values in the datastore the console could not read</h2>
              <ul>
                {o.invalid.map((i) => (
                  <li key={i.key}>
                    <code>{i.key}</code>: {i.problem}
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      )}
    </Loaded>
  );
}

function HostRow({ h }: { h: HostSummary }) {
  return (
    <tr data-host={h.name}>
      <th scope="row">
        <a href={href(['hosts', h.name])}>{h.name}</a>
        {h.reflector && <span class="badge muted">reflector</span>}
      </th>
      <td>
        <Badge ok={h.alive} yes="alive" no="not alive" />
      </td>
      <td>{h.alive ? ago(h.lastReport) : '—'}</td>
      <td>{h.addresses.join(', ')}</td>
      <td>
        <span class={h.sessionsEstablished === h.sessionsTotal ? '' : 'warn'}>
          {h.sessionsEstablished} / {h.sessionsTotal}
        </span>
      </td>
      <td>
        {h.endpointsUp} / {h.endpoints}
      </td>
    </tr>
  );
}

export function HostsPage({ query, navigate }: PageProps) {
  const q = query.get('q') ?? '';
  const page = Number(query.get('page') ?? '1');
  const state = query.get('state') ?? '';
  const live = useLive<Paged<HostSummary>>(`/api/hosts?q=${encodeURIComponent(q)}&page=${page}${state === '' ? '' : `&state=${state}`}`, [
    'hosts',
    'endpoints',
  ]);
  return (
    <section aria-labelledby="hosts-h">
      <h1 id="hosts-h">Hosts</h1>
      <Search label="Find hosts" value={q} onSearch={(x) => navigate(href(['hosts'], { q: x, state }))} />
      <Loaded live={live}>
        {(p) => (
          <>
            <table>
              <caption>Compute hosts and route reflectors, with their agents and BGP sessions</caption>
              <TableHead columns={['Host', 'Agent', 'Last report', 'BGP address', 'Sessions up', 'VM ports up']} />
              <tbody>
                {p.items.map((h) => (
                  <HostRow key={h.name} h={h} />
                ))}
              </tbody>
            </table>
            <Pager page={p} go={(n) => navigate(href(['hosts'], { q, state, page: n }))} />
          </>
        )}
      </Loaded>
    </section>
  );
}

function EndpointTable({ items, caption, showHost }: { items: EndpointSummary[]; caption: string; showHost: boolean }) {
  return (
    <table>
      <caption>{caption}</caption>
      <TableHead columns={['VM', ...(showHost ? ['Host'] : []), 'Port', 'Network', 'Addresses', 'Floating IPs', 'Status']} />
      <tbody>
        {items.map((e) => (
          <tr key={e.id} data-endpoint={e.portId}>
            <th scope="row">
              <a href={href(['vms', e.workload])}>{e.workload}</a>
            </th>
            {showHost && (
              <td>
                <a href={href(['hosts', e.host])}>{e.host}</a>
              </td>
            )}
            <td>{e.portName === '' ? e.portId.slice(0, 8) : e.portName}</td>
            <td>{e.networkName}</td>
            <td>{e.ips.join(', ')}</td>
            <td>{e.floatingIps.join(', ')}</td>
            <td>
              <StateBadge state={e.status} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function HostPage({ path, query, navigate }: PageProps) {
  const name = path[1] ?? '';
  const q = query.get('q') ?? '';
  const page = Number(query.get('page') ?? '1');
  const live = useLive<HostDetail>(`/api/hosts/${encodeURIComponent(name)}?q=${encodeURIComponent(q)}&page=${page}`, [
    'hosts',
    'endpoints',
    'networks',
    'settings',
  ]);
  return (
    <Loaded live={live}>
      {(d) => (
        <section aria-labelledby="host-h">
          <h1 id="host-h">Host {d.host.name}</h1>
          <dl class="facts">
            <dt>Agent</dt>
            <dd data-testid="agent-state">
              <Badge ok={d.host.alive} yes="alive" no="not alive" />
            </dd>
            <dt>Last report</dt>
            <dd>{d.host.alive ? `${ago(d.host.lastReport)} (up ${duration(d.host.uptimeSeconds)})` : 'none within the report TTL'}</dd>
            <dt>BGP</dt>
            <dd>
              AS {d.host.asNumber}, {d.host.addresses.join(', ') || 'no address'}
              {d.host.reflector ? ', route reflector' : ''}; BIRD {d.birdReady.v4 ?? '—'} (IPv4) {d.birdReady.v6 ?? '—'} (IPv6)
            </dd>
            {d.configError !== undefined && (
              <>
                <dt>BIRD refused the last configuration</dt>
                <dd class="error">{d.configError}</dd>
              </>
            )}
          </dl>
          <h2>BGP sessions</h2>
          <table data-testid="sessions">
            <caption>As the host's BIRD reported them {d.statusUpdated === undefined ? '' : ago(d.statusUpdated)}</caption>
            <TableHead columns={['Peer', 'Address', 'Type', 'State', 'Since', 'Info']} />
            <tbody>
              {d.sessions.map((s) => (
                <tr key={`${s.family}-${s.peerIP}`} data-peer={s.peerIP}>
                  <th scope="row">{s.peerName ?? s.peerIP}</th>
                  <td>{s.peerIP}</td>
                  <td>{s.type}</td>
                  <td>
                    <StateBadge state={s.state} />
                  </td>
                  <td>{s.since ?? '—'}</td>
                  <td>{s.info ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>VMs</h2>
          <Search label="Find VMs on this host" value={q} onSearch={(x) => navigate(href(['hosts', name], { q: x }))} />
          <EndpointTable items={d.endpoints.items} caption={`VM ports on ${d.host.name}`} showHost={false} />
          <Pager page={d.endpoints} go={(n) => navigate(href(['hosts', name], { q, page: n }))} />
        </section>
      )}
    </Loaded>
  );
}

export function EndpointsPage({ query, navigate }: PageProps) {
  const q = query.get('q') ?? '';
  const page = Number(query.get('page') ?? '1');
  const live = useLive<Paged<EndpointSummary>>(`/api/endpoints?q=${encodeURIComponent(q)}&page=${page}`, ['endpoints', 'networks']);
  return (
    <section aria-labelledby="vms-h">
      <h1 id="vms-h">VMs</h1>
      <Search label="Find by VM, port, address or host" value={q} onSearch={(x) => navigate(href(['vms'], { q: x }))} />
      <Loaded live={live}>
        {(p) => (
          <>
            <EndpointTable items={p.items} caption="VM ports in the cloud" showHost={true} />
            <Pager page={p} go={(n) => navigate(href(['vms'], { q, page: n }))} />
          </>
        )}
      </Loaded>
    </section>
  );
}

export function VmPage({ path }: PageProps) {
  const id = path[1] ?? '';
  const live = useLive<VmDetail>(`/api/vms/${encodeURIComponent(id)}`, ['endpoints', 'networks', 'policies']);
  return (
    <Loaded live={live}>
      {(vm) => (
        <section aria-labelledby="vm-h">
          <h1 id="vm-h">VM {vm.workload}</h1>
          <p>
            On{' '}
            {vm.hosts.map((h) => (
              <a key={h} href={href(['hosts', h])}>
                {h}
              </a>
            ))}
          </p>
          {vm.endpoints.map((e) => (
            <article key={e.id} aria-labelledby={`ep-${e.portId}`} data-endpoint={e.portId}>
              <h2 id={`ep-${e.portId}`}>
                Port {e.portName === '' ? e.portId : e.portName} <StateBadge state={e.status} />
              </h2>
              <dl class="facts">
                <dt>Host</dt>
                <dd>{e.host}</dd>
                <dt>Network</dt>
                <dd>{e.networkName}</dd>
                <dt>Addresses</dt>
                <dd data-testid="addresses">{e.ips.join(', ')}</dd>
                <dt>Floating IPs</dt>
                <dd>{e.floatingIps.join(', ') || 'none'}</dd>
                <dt>Interface</dt>
                <dd>
                  {e.iface} ({e.mac})
                </dd>
                <dt>Security groups</dt>
                <dd>{e.securityGroups.map((g) => g.name).join(', ') || 'none (all traffic dropped)'}</dd>
              </dl>
              <h3>Policies in the order the host applies them</h3>
              {e.tiers.length === 0 && <p>No policy applies: the host drops everything to and from this port.</p>}
              {e.tiers.map((t) =>
                (['ingress', 'egress'] as const).map((dir) => (
                  <div key={`${t.name}-${dir}`}>
                    <h4>
                      {dir === 'ingress' ? 'Into the VM' : 'Out of the VM'} (tier {t.name})
                    </h4>
                    <ol class="policies">
                      {t[dir].map((p) => (
                        <li key={p.name}>
                          <strong>{p.securityGroup === undefined ? p.name : `security group ${p.securityGroup}`}</strong>
                          {p.order === undefined ? '' : ` (order ${p.order})`}
                          <ol>
                            {p.rules.map((r, i) => (
                              <li key={i}>
                                <span class={`badge ${r.action === 'Allow' ? 'ok' : 'bad'}`}>{r.action}</span> {r.text}
                              </li>
                            ))}
                          </ol>
                        </li>
                      ))}
                      <li>anything else: dropped</li>
                    </ol>
                  </div>
                )),
              )}
            </article>
          ))}
        </section>
      )}
    </Loaded>
  );
}

function Usage({ percent, label }: { percent: number; label: string }) {
  return (
    <span class="usage">
      <meter min={0} max={100} value={percent} low={70} high={90} optimum={0} aria-label={label} /> {percent}%
    </span>
  );
}

export function NetworksPage({ query, navigate }: PageProps) {
  const q = query.get('q') ?? '';
  const page = Number(query.get('page') ?? '1');
  const live = useLive<Paged<NetworkSummary>>(`/api/networks?q=${encodeURIComponent(q)}&page=${page}`, ['networks']);
  return (
    <section aria-labelledby="nets-h">
      <h1 id="nets-h">Networks</h1>
      <Search label="Find networks" value={q} onSearch={(x) => navigate(href(['networks'], { q: x }))} />
      <Loaded live={live}>
        {(p) => (
          <>
            <table>
              <caption>Networks and subnets, with addresses in use out of each subnet's allocation pools</caption>
              <TableHead columns={['Network', 'Subnet', 'CIDR', 'Gateway', 'In use']} />
              <tbody>
                {p.items.flatMap((n) =>
                  (n.subnets.length === 0 ? [undefined] : n.subnets).map((s, i) => (
                    <tr key={`${n.id}-${s?.id ?? ''}`}>
                      {i === 0 && (
                        <th scope="row" rowSpan={Math.max(1, n.subnets.length)}>
                          {n.name || n.id.slice(0, 8)}
                          {n.external && <span class="badge muted">external</span>}
                          {n.shared && <span class="badge muted">shared</span>}
                          <br />
                          <small>{n.ports} ports</small>
                        </th>
                      )}
                      <td>{s?.name ?? '—'}</td>
                      <td>{s?.cidr ?? ''}</td>
                      <td>{s?.gateway ?? ''}</td>
                      <td>
                        {s === undefined ? '' : <Usage percent={s.percent} label={`${s.cidr} in use`} />} {s === undefined ? '' : `${s.used} of ${s.size}`}
                      </td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
            <Pager page={p} go={(n) => navigate(href(['networks'], { q, page: n }))} />
          </>
        )}
      </Loaded>
    </section>
  );
}

/** `3 hosts`, `1 host`. */
const count = (n: number, what: string): string => `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;

export function TopologyPage() {
  const live = useLive<Topology>('/api/topology', ['hosts', 'settings']);
  return (
    <section aria-labelledby="topo-h">
      <h1 id="topo-h">BGP topology</h1>
      <Loaded live={live}>
        {(t) => {
          const at = new Map(t.nodes.map((n) => [n.id, n]));
          const small = t.nodes.length > 60;
          const broken = t.edges.filter((e) => !e.established);
          return (
            <>
              <p>
                {count(t.nodes.filter((n) => n.role === 'reflector').length, 'route reflector')},{' '}
                {count(t.nodes.filter((n) => n.role === 'host').length, 'host')}, {count(t.nodes.filter((n) => n.role === 'external').length, 'external peer')};{' '}
                {count(t.edges.length - broken.length + t.omittedEstablished, 'session')} established, {broken.length} not.
                {t.omittedEstablished > 0 ? ` (${t.omittedEstablished} established sessions are not drawn.)` : ''}
              </p>
              <svg viewBox={`0 0 ${t.width} ${t.height}`} role="img" aria-labelledby="topo-title" class="topology" data-testid="topology">
                <title id="topo-title">BGP sessions between hosts, route reflectors and external peers</title>
                {t.edges.map((e) => {
                  const a = at.get(e.from);
                  const b = at.get(e.to);
                  if (a === undefined || b === undefined) return null;
                  return (
                    <line key={`${e.from}|${e.to}`} x1={a.x} y1={a.y} x2={b.x} y2={b.y} class={e.established ? 'edge up' : 'edge down'}>
                      <title>
                        {a.label} — {b.label}: {e.state}
                      </title>
                    </line>
                  );
                })}
                {t.nodes.map((n) => (
                  <g key={n.id} class={`node ${n.role} ${n.alive ? 'alive' : 'dead'}`} transform={`translate(${n.x},${n.y})`}>
                    {n.role === 'external' ? <rect x={-14} y={-10} width={28} height={20} /> : <circle r={small ? 5 : n.role === 'reflector' ? 16 : 12} />}
                    {!small || n.role !== 'host' ? (
                      <text y={n.role === 'external' ? -16 : -20} text-anchor="middle">
                        {n.label}
                      </text>
                    ) : null}
                    <title>
                      {n.role} {n.label}
                      {n.alive ? '' : ' (agent not alive)'}
                    </title>
                  </g>
                ))}
              </svg>
              <p class="legend">
                <span class="swatch up" /> session established <span class="swatch down" /> session not established ● host ◉ reflector ▭ external peer
              </p>
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
