import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * A software WebAuthn authenticator for tests: a platform passkey with an ES256 (P-256) key, producing the same
 * bytes a browser hands to the server. Registration builds a real attestation object (fmt "none"): CBOR
 * {fmt, attStmt, authData} with authData = SHA-256(rpId) ‖ flags ‖ signCount ‖ AAGUID ‖ credential id length ‖
 * credential id ‖ COSE_Key (kty EC2, alg ES256, crv P-256, x, y). An assertion signs authenticatorData ‖
 * SHA-256(clientDataJSON) with the private key (DER-encoded ECDSA), and moves the signature counter on.
 * (W3C Web Authentication Level 2 §6.1 authenticator data, §6.5 attestation, §8.7 none; RFC 8152 §13.1.1.)
 */

// ------------------------------------------------------------------------------------------------ CBOR (encode only)

type Cbor = number | string | Uint8Array | ReadonlyMap<Cbor, Cbor> | Readonly<{ [key: string]: Cbor }>;

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const bytes = Buffer.alloc(5);
  bytes[0] = (major << 5) | 26;
  bytes.writeUInt32BE(length, 1);
  return bytes;
}

/** The few CBOR types WebAuthn needs: small integers, text, byte strings and maps (keys kept in the given order). */
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error('only integers');
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  const entries: [Cbor, Cbor][] = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([key, item]) => [cbor(key), cbor(item)])]);
}

// ------------------------------------------------------------------------------------------------ the authenticator

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();
const b64url = (data: Buffer | Uint8Array): string => Buffer.from(data).toString('base64url');

const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_ATTESTED_CREDENTIAL = 0x40;

type Credential = { id: Buffer; private_key: KeyObject; public_key: KeyObject; user_handle: string; rp_id: string; counter: number };

export type CreationOptions = Readonly<{ challenge: string; rp: Readonly<{ id?: string; name: string }>; user: Readonly<{ id: string; name: string }> }>;
export type RequestOptions = Readonly<{ challenge: string; rpId?: string; allowCredentials?: readonly Readonly<{ id: string }>[] }>;

export class SoftwareAuthenticator {
  readonly #credentials: Credential[] = [];

  /** `origin` is where the "browser" is: what it writes into clientDataJSON. */
  constructor(readonly origin: string) {}

  get credentialIds(): string[] {
    return this.#credentials.map((credential) => b64url(credential.id));
  }

  /** navigator.credentials.create(): a new key pair for the relying party, as RegistrationResponseJSON. */
  register(options: CreationOptions, overrides: Readonly<{ origin?: string }> = {}): Record<string, unknown> {
    const rp_id = options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credential: Credential = { id: randomBytes(32), private_key: privateKey, public_key: publicKey, user_handle: options.user.id, rp_id, counter: 0 };
    const jwk = publicKey.export({ format: 'jwk' });
    // COSE_Key, RFC 8152: 1 kty = 2 (EC2), 3 alg = -7 (ES256), -1 crv = 1 (P-256), -2 x, -3 y.
    const cose = cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    const authData = Buffer.concat([this.#authDataHead(rp_id, FLAG_USER_PRESENT | FLAG_USER_VERIFIED | FLAG_ATTESTED_CREDENTIAL, 0), Buffer.alloc(16), idLength, credential.id, cose]);
    const clientData = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: overrides.origin ?? this.origin, crossOrigin: false });
    this.#credentials.push(credential);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(Buffer.from(clientData)),
        attestationObject: b64url(cbor({ fmt: 'none', attStmt: {}, authData })),
        transports: ['internal'],
        publicKeyAlgorithm: -7,
      },
    };
  }

  /** navigator.credentials.get(): an assertion with one of this authenticator's passkeys, as AuthenticationResponseJSON. */
  authenticate(options: RequestOptions, overrides: Readonly<{ origin?: string }> = {}): Record<string, unknown> {
    const allowed = options.allowCredentials?.map((entry) => entry.id) ?? [];
    const credential = this.#credentials.find((candidate) => (options.rpId === undefined || candidate.rp_id === options.rpId) && (allowed.length === 0 || allowed.includes(b64url(candidate.id))));
    if (credential === undefined) throw new Error('this authenticator holds no passkey for these options');
    credential.counter += 1;
    const authenticatorData = this.#authDataHead(credential.rp_id, FLAG_USER_PRESENT | FLAG_USER_VERIFIED, credential.counter);
    const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: overrides.origin ?? this.origin, crossOrigin: false }));
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientData)]), credential.private_key);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authenticatorData),
        signature: b64url(signature),
        userHandle: credential.user_handle,
      },
    };
  }

  /** SHA-256(rpId) ‖ flags ‖ signCount (big-endian): the first 37 bytes of all authenticator data. */
  #authDataHead(rp_id: string, flags: number, counter: number): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rp_id), Buffer.from([flags]), count]);
  }
}
