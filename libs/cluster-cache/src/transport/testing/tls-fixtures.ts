import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private key and its certificate, PEM-encoded. */
export interface KeyPair {
  key: string;
  cert: string;
}

/** Throwaway certificates for TLS specs. */
export interface TlsFixtures {
  /** The cluster's certificate authority. */
  ca: string;
  /** A node certificate signed by `ca`, valid for every address given. */
  node: KeyPair;
  /** A node certificate for the same addresses, signed by another authority. */
  rogue: KeyPair;
}

/** Whether an `openssl` binary can be run. */
export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

/**
 * Generates a CA, a node certificate it signs and a rogue one, all for `addresses` (as IP
 * subject alternative names), with the `openssl` binary. Short-lived EC keys keep it fast.
 */
export function createTlsFixtures(addresses: string[]): TlsFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-cache-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(
    join(dir, 'node.ext'),
    `subjectAltName=${addresses.map((ip) => `IP:${ip}`).join(',')}\n` +
      'extendedKeyUsage=serverAuth,clientAuth\n',
  );

  const authority = (name: string) =>
    openssl(
      'req', '-x509', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.crt`,
      '-days', '1', '-subj', `/CN=${name}`,
    );
  const signed = (name: string, ca: string): KeyPair => {
    openssl('req', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl(
      'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`,
      '-set_serial', '1', '-days', '1', '-extfile', 'node.ext', '-out', `${name}.crt`,
    );
    return { key: read(`${name}.key`), cert: read(`${name}.crt`) };
  };

  try {
    authority('ca');
    authority('rogue-ca');
    return { ca: read('ca.crt'), node: signed('node', 'ca'), rogue: signed('rogue', 'rogue-ca') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
