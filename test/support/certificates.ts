// A throwaway CA and a serving certificate it signed, made with the machine's openssl, for tests
// of the admission webhook (the API server and the tests trust exactly this CA).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when `openssl` can be run here. */
export const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** A folder with `tls.crt` and `tls.key` (as a kubernetes.io/tls Secret mounts them) for `hosts`, and the CA as PEM and base64. */
export interface ServingCertificate {
  certDir: string;
  caPem: string;
  caBundle: string;
}

/** Makes a CA and a certificate for `hosts` (IP addresses or DNS names) valid for a day. */
export function servingCertificate(hosts: readonly string[] = ['127.0.0.1', 'localhost']): ServingCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'sde-webhook-cert-'));
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=sde-test-ca');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=sde-operator-webhook');
  const names = hosts.map((h) => (/^[0-9.]+$/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${names}\n`);
  run('x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '1', '-extfile', 'ext.cnf');
  const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
  return { certDir: dir, caPem, caBundle: Buffer.from(caPem).toString('base64') };
}
