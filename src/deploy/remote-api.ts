// Neutron API calls made on a controller (the API may listen on its loopback only): a short
// node program over ssh, with a Keystone token first when the cloud uses Keystone.
import { DeployStepError } from './errors.js';
import type { DeploySettings } from './deploy-settings.js';
import type { Remote } from './remote.js';

export interface ApiReply {
  readonly status: number;
  readonly body: unknown;
}

export type RemoteApi = (method: string, path: string, body?: unknown) => Promise<ApiReply>;

export function remoteApi(remote: Remote, port: number, keystone: DeploySettings['keystone']): RemoteApi {
  return async (method, path, body) => {
    const request = JSON.stringify({ method, url: `http://127.0.0.1:${port}${path}`, body: body ?? null, keystone: keystone ?? null });
    const program = `
const req = ${request};
const headers = { 'content-type': 'application/json', accept: 'application/json' };
if (req.keystone) {
  const k = req.keystone;
  const auth = { auth: { identity: { methods: ['password'], password: { user: { name: k.username, domain: { name: 'Default' }, password: k.password } } },
    scope: { project: { name: k.project, domain: { name: 'Default' } } } } };
  const t = await fetch(k.url.replace(/\\/$/, '') + '/auth/tokens', { method: 'POST', headers, body: JSON.stringify(auth) });
  if (t.status !== 201) { console.log(JSON.stringify({ status: 0, body: 'keystone: ' + t.status + ' ' + await t.text() })); process.exit(0); }
  headers['x-auth-token'] = t.headers.get('x-subject-token');
}
try {
  const r = await fetch(req.url, { method: req.method, headers, body: req.body === null ? undefined : JSON.stringify(req.body) });
  const text = await r.text();
  let parsed; try { parsed = JSON.parse(text); } catch { parsed = text; }
  console.log(JSON.stringify({ status: r.status, body: parsed }));
} catch (e) { console.log(JSON.stringify({ status: 0, body: String(e) })); }
`;
    const r = await remote.run(`node --input-type=module <<'BRINDLE_JS'\n${program}\nBRINDLE_JS`, 60_000);
    if (r.code !== 0) throw new DeployStepError(remote.machine.name, 'verify', `${method} ${path}`, r.stderr + r.stdout);
    try {
      return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as ApiReply;
    } catch {
      throw new DeployStepError(remote.machine.name, 'verify', `${method} ${path}`, `unreadable reply: ${r.stdout.slice(0, 500)}`);
    }
  };
}
