import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A self-signed certificate like the one a RouterOS router makes for API-SSL and www-ssl, made with the
 * system's `openssl` (Debian package `openssl`), and its SHA-256 fingerprint for pinning.
 */
export function selfSignedCertificate(): Readonly<{ key: string; cert: string; fingerprint_sha256: string }> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'ispbills-routeros-tls-'));
  try {
    const key = path.join(directory, 'key.pem');
    const cert = path.join(directory, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=router.test'], {
      stdio: 'ignore',
    });
    const certificate = readFileSync(cert, 'utf8');
    return { key: readFileSync(key, 'utf8'), cert: certificate, fingerprint_sha256: new X509Certificate(certificate).fingerprint256 };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
