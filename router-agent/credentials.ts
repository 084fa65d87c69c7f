import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Router API passwords at rest: AES-256-GCM with a 32-byte key from the deployment's configuration, a fresh
 * 96-bit IV per seal, and the router id as additional data, so a sealed password copied onto another router
 * does not open. The sealed form names the key (a hash of it, not the key), so a process with the wrong key
 * says so instead of failing obscurely. Only this module sees passwords in clear, and only in memory.
 */
export class CredentialsError extends Error {
  constructor(
    readonly code: 'CREDENTIALS_KEY_INVALID' | 'CREDENTIALS_KEY_MISMATCH' | 'CREDENTIALS_UNREADABLE',
    message: string,
  ) {
    super(message);
    this.name = 'CredentialsError';
  }
}

export interface SecretBox {
  /** Seals `plaintext` for `router_id`. */
  seal(router_id: string, plaintext: string): string;
  /** Opens what `seal` made for the same router; throws CredentialsError otherwise. */
  open(router_id: string, sealed: string): string;
}

const b64 = (buffer: Buffer) => buffer.toString('base64url');

export class AesGcmSecretBox implements SecretBox {
  readonly key_id: string;
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new CredentialsError('CREDENTIALS_KEY_INVALID', `the router credentials key must be 32 bytes, not ${key.length}`);
    this.#key = Buffer.from(key);
    this.key_id = createHash('sha256').update('ispbills-router-credentials\n').update(key).digest('hex').slice(0, 8);
  }

  seal(router_id: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(router_id, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.key_id, b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join('.');
  }

  open(router_id: string, sealed: string): string {
    const [version, key_id, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) throw new CredentialsError('CREDENTIALS_UNREADABLE', `router ${router_id}: the stored API password is not a sealed value`);
    if (key_id !== this.key_id) {
      throw new CredentialsError('CREDENTIALS_KEY_MISMATCH', `router ${router_id}: its API password was sealed with key ${key_id}, but this process has key ${this.key_id}; set ROUTER_CREDENTIALS_KEY to the key it was sealed with`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(router_id, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new CredentialsError('CREDENTIALS_UNREADABLE', `router ${router_id}: the stored API password does not open (altered, or sealed for another router)`);
    }
  }
}

/** A key as configured: 64 hex digits or base64 of 32 bytes. */
export function parseCredentialsKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new CredentialsError('CREDENTIALS_KEY_INVALID', 'ROUTER_CREDENTIALS_KEY must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)');
  return key;
}

/**
 * The key from ROUTER_CREDENTIALS_KEY; without it, from `<data dir>/router-credentials.key`, which a
 * single-machine install creates on first use (mode 0600). A deployment with several processes sets the
 * variable, the same in each.
 */
export function loadSecretBox(options: Readonly<{ key?: string | undefined; data_dir: string }>): AesGcmSecretBox {
  if (options.key !== undefined) return new AesGcmSecretBox(parseCredentialsKey(options.key));
  const file = path.resolve(options.data_dir, 'router-credentials.key');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process made it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  return new AesGcmSecretBox(parseCredentialsKey(readFileSync(file, 'utf8')));
}
