import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSealedSecret } from '../domain/routers/router-connection.js';
import { AesGcmSecretBox, CredentialsError, loadSecretBox, parseCredentialsKey } from './credentials.js';

describe('router API passwords at rest', () => {
  const box = new AesGcmSecretBox(randomBytes(32));

  it('seals a password into a value the domain accepts, different every time, that opens only for its router', () => {
    const first = box.seal('rtr-1', 'pässwörd with spaces');
    const second = box.seal('rtr-1', 'pässwörd with spaces');
    expect(first).not.toBe(second);
    expect(first).not.toContain('pässwörd');
    expect(isSealedSecret(first)).toBe(true);
    expect(box.open('rtr-1', first)).toBe('pässwörd with spaces');
    expect(() => box.open('rtr-2', first)).toThrow(CredentialsError);
    const tampered = first.slice(0, -2) + (first.endsWith('AA') ? 'BB' : 'AA');
    expect(() => box.open('rtr-1', tampered)).toThrow(/does not open/);
  });

  it('names the key a value was sealed with, so a process with another key says so', () => {
    const other = new AesGcmSecretBox(randomBytes(32));
    const error = (() => {
      try {
        other.open('rtr-1', box.seal('rtr-1', 'secret'));
      } catch (caught) {
        return caught as CredentialsError;
      }
      return null;
    })();
    expect(error?.code).toBe('CREDENTIALS_KEY_MISMATCH');
    expect(error?.message).toContain(box.key_id);
  });

  it('takes the key as 64 hex digits or base64, refuses anything else, and makes a private key file when none is configured', () => {
    const key = randomBytes(32);
    expect(parseCredentialsKey(key.toString('hex'))).toEqual(key);
    expect(parseCredentialsKey(key.toString('base64'))).toEqual(key);
    expect(() => parseCredentialsKey('too short')).toThrow(/32 bytes/);
    const directory = mkdtempSync(path.join(os.tmpdir(), 'ispbills-credentials-'));
    const made = loadSecretBox({ data_dir: directory });
    const file = path.join(directory, 'router-credentials.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadSecretBox({ data_dir: directory }).key_id).toBe(made.key_id);
    expect(loadSecretBox({ key: readFileSync(file, 'utf8'), data_dir: '/nonexistent' }).key_id).toBe(made.key_id);
  });
});
