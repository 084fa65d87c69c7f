import { normaliseHost } from './networks.js';

/**
 * How the router-agent reaches a router's management interface: the RouterOS API (TCP 8728), API-SSL (8729)
 * or the RouterOS 7 REST API (HTTPS 443). The API password is stored only sealed (AES-256-GCM with a key from
 * the deployment's configuration, bound to the router id); this module never sees it in clear, only checks
 * that what it is given is a sealed value and not a password pasted in by mistake.
 */
export type RouterTransport = 'api' | 'api-ssl' | 'rest';

export const ROUTER_TRANSPORTS: readonly RouterTransport[] = ['api', 'api-ssl', 'rest'];

/** The ports RouterOS listens on for each transport unless told otherwise. */
export const DEFAULT_MANAGEMENT_PORTS: Readonly<Record<RouterTransport, number>> = { api: 8728, 'api-ssl': 8729, rest: 443 };

export type RouterConnection = Readonly<{
  /** Where the agent connects: an address or a DNS name (not necessarily the NAS IP RADIUS sees). */
  host: string;
  transport: RouterTransport;
  port: number;
  username: string;
  /** The API password, sealed (see isSealedSecret); never the password itself. */
  password_sealed: string;
  /** What the router runs, `major.minor[.patch]`: decides `!empty`, `require-message-auth` and REST support. */
  routeros_version: string;
  /** API-SSL and REST: the router certificate's SHA-256 fingerprint (RouterOS certificates are self-signed). */
  tls_fingerprint_sha256: string | null;
}>;

/** `v1.<key id>.<iv>.<tag>.<ciphertext>`, base64url: the shape every sealed secret has. */
const SEALED = /^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{2,700}$/;

export const isSealedSecret = (value: string): boolean => SEALED.test(value);

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const VERSION = /^(\d{1,2})\.(\d{1,3})(?:\.(\d{1,3}))?$/;
const FINGERPRINT = /^[0-9A-Fa-f]{2}(?::?[0-9A-Fa-f]{2}){31}$/;
const CONTROL = /\p{Cc}/u;

/** [major, minor, patch] of a RouterOS version string, or null. */
export function parseRouterOsVersion(version: string): readonly [number, number, number] | null {
  const match = VERSION.exec(version.trim());
  if (match === null) return null;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** True when `version` is at least `major.minor`. */
export function routerOsAtLeast(version: string, major: number, minor: number): boolean {
  const parsed = parseRouterOsVersion(version);
  if (parsed === null) return false;
  return parsed[0] > major || (parsed[0] === major && parsed[1] >= minor);
}

/**
 * A password the API user may have: 1–128 characters without control characters (it travels in an API word
 * or an HTTP Basic header). Checked in clear by the command handler before it seals it.
 */
export function checkApiPassword(password: string): string | null {
  if (password.length === 0 || [...password].length > 128 || CONTROL.test(password)) return 'the API password must be 1–128 characters without control characters';
  return null;
}

/** The connection checked and normalised, or what is wrong first (host, transport, port, user, password, version, fingerprint). */
export function checkRouterConnection(connection: RouterConnection): RouterConnection | string {
  const host = normaliseHost(connection.host);
  if (host === null) return `host ${JSON.stringify(connection.host)} is neither an IP address nor a DNS name`;
  if (!ROUTER_TRANSPORTS.includes(connection.transport)) return `transport must be one of ${ROUTER_TRANSPORTS.join(', ')}`;
  if (!Number.isInteger(connection.port) || connection.port < 1 || connection.port > 65_535) return `port ${connection.port} must be a whole number from 1 to 65535`;
  if (!USERNAME.test(connection.username)) return 'the API user name must be 1–64 letters, digits, ".", "_", "@" or "-"';
  if (!isSealedSecret(connection.password_sealed)) return 'the API password must be stored sealed; the command handler seals it';
  const version = parseRouterOsVersion(connection.routeros_version);
  if (version === null || version[0] < 6 || version[0] > 7) return `RouterOS version ${JSON.stringify(connection.routeros_version)} must look like 6.49.17 or 7.18.2`;
  if (connection.transport === 'rest' && !routerOsAtLeast(connection.routeros_version, 7, 1)) return 'the REST API needs RouterOS 7.1 or later; use transport api or api-ssl';
  let fingerprint = connection.tls_fingerprint_sha256;
  if (fingerprint !== null) {
    if (connection.transport === 'api') return 'a certificate fingerprint only applies to api-ssl and rest; transport api has no TLS';
    if (!FINGERPRINT.test(fingerprint.trim())) return 'the certificate fingerprint must be 32 bytes of hex (SHA-256), colons optional';
    fingerprint = fingerprint.trim().replace(/:/g, '').toUpperCase().match(/../g)!.join(':');
  }
  return {
    host,
    transport: connection.transport,
    port: connection.port,
    username: connection.username,
    password_sealed: connection.password_sealed,
    routeros_version: version.slice(0, connection.routeros_version.split('.').length).join('.'),
    tls_fingerprint_sha256: fingerprint,
  };
}
