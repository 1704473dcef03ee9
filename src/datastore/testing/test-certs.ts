// Throwaway TLS material for tests of etcd over TLS: a CA, and certificates it signs for
// server and client use with the given IP addresses as SANs.
import { join } from 'node:path';
import { realExec, realFs } from '../../lib/index.js';

/**
 * Writes `ca.crt`/`ca.key` and, for each name, `<name>.crt`/`<name>.key` into `dir` (created),
 * valid for a day, for `ips`.
 */
export async function makeTestCerts(dir: string, names: readonly string[], ips: readonly string[] = ['127.0.0.1']): Promise<void> {
  const exec = realExec();
  await realFs().ensureDir(dir);
  const openssl = async (args: readonly string[]): Promise<void> => {
    const r = await exec.run('openssl', args, { cwd: dir });
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=brindle-test-ca']);
  await realFs().writeTextAtomic(join(dir, 'san.ext'), `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  for (const who of names) {
    await openssl(['req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=brindle-test-${who}`]);
    await openssl([
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${who}.crt`,
      '-days',
      '1',
      '-extfile',
      'san.ext',
    ]);
  }
}
