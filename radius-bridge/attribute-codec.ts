import path from 'node:path';
import radius from 'radius';

/**
 * Attribute coding by name through the npm `radius` package (its RFC dictionaries plus FreeRADIUS'
 * `dictionary.mikrotik`, vendor 14988, shipped in ./dictionaries). The package is used only for what it does
 * well: turning attribute names and values into TLVs and back. Framing, authenticators, Message-Authenticator
 * and User-Password are done in wire.ts, because the package's versions of those are unsafe (see there).
 *
 * The package keeps its dictionaries and its last secret in module-global state; every call here is
 * synchronous, so nothing interleaves.
 */
const MIKROTIK = 14988;
const ATTR_ID = 0;
const ATTR_TYPE = 2;
const ATTR_ENUM = 3;

/** The package's internals this module relies on (its own typings leave them out). */
type RadiusInternals = {
  add_dictionary(file: string): void;
  load_dictionaries(): void;
  _attr_to(attribute: string | number, vendor: number | undefined, target: number): unknown;
  decode_without_secret(args: { packet: Buffer }): { attributes: Record<string, unknown> };
  encode(args: {
    code: string;
    secret: string;
    identifier: number;
    authenticator: Buffer;
    attributes: unknown[];
    add_message_authenticator: boolean;
  }): Buffer;
};

const library = radius as unknown as RadiusInternals;
library.add_dictionary(path.join(import.meta.dirname, 'dictionaries', 'dictionary.mikrotik'));
library.load_dictionaries();

/** A request's attributes by dictionary name, each value as FreeRADIUS would print it (`%{Name}`). */
export type NamedAttributes = ReadonlyMap<string, readonly string[]>;

export class UndecodableAttributes extends Error {
  readonly code = 'RADIUS_UNDECODABLE_ATTRIBUTES';
}

const printable = (value: unknown): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value instanceof Date) return String(Math.floor(value.getTime() / 1000));
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex')}`;
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number') return printable(value[1]); // tagged
  return String(value);
};

/**
 * Decodes a packet whose framing wire.parsePacket already checked. User-Password comes back absent (the
 * package needs the secret for it; wire.decryptUserPassword does it instead). Throws UndecodableAttributes
 * when the package cannot decode a value (an integer of 2 octets, a VSA with a broken inner length…).
 */
export function decodeAttributes(packet: Buffer): NamedAttributes {
  let decoded: Record<string, unknown>;
  try {
    decoded = library.decode_without_secret({ packet }).attributes;
  } catch (error) {
    throw new UndecodableAttributes(error instanceof Error ? error.message : String(error));
  }
  const out = new Map<string, string[]>();
  const add = (name: string, value: unknown): void => {
    const values = Array.isArray(value) && !(value.length === 2 && typeof value[0] === 'number') ? value : [value];
    const list = out.get(name) ?? [];
    for (const one of values) if (one !== null && one !== undefined) list.push(printable(one));
    out.set(name, list);
  };
  for (const [name, value] of Object.entries(decoded)) {
    if (name === 'Vendor-Specific' && typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
      for (const [vendor_name, vendor_value] of Object.entries(value)) add(vendor_name, vendor_value);
    } else {
      add(name, value);
    }
  }
  return out;
}

export type ReplyAttribute = Readonly<{ name: string; value: string }>;

export class UnencodableAttribute extends Error {
  readonly code = 'RADIUS_UNENCODABLE_ATTRIBUTE';
}

const ZERO_AUTHENTICATOR = Buffer.alloc(16);
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The package's value for one attribute, from the text a table row holds; throws when it cannot be one. */
function libraryValue(name: string, type: string, text: string): unknown {
  switch (type) {
    case 'string':
    case 'text':
      if (Buffer.byteLength(text) > 253) throw new UnencodableAttribute(`${name} is longer than 253 octets`);
      return text;
    case 'integer':
    case 'time':
      // A number, or a dictionary value name (Service-Type = Framed-User) the package maps itself.
      if (/^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff) return Number(text);
      if (library._attr_to(name, undefined, ATTR_ID) !== undefined && /^[A-Za-z][\w.-]*$/.test(text)) return text;
      throw new UnencodableAttribute(`${name} = ${JSON.stringify(text)} is not a 32-bit number`);
    case 'date':
      if (/^\d{1,10}$/.test(text)) return new Date(Number(text) * 1000);
      throw new UnencodableAttribute(`${name} = ${JSON.stringify(text)} is not a date in unix seconds`);
    case 'ipaddr':
      if (IPV4.test(text)) return text;
      throw new UnencodableAttribute(`${name} = ${JSON.stringify(text)} is not an IPv4 address`);
    case 'octets':
      return /^0x([0-9a-f]{2})*$/i.test(text) ? Buffer.from(text.slice(2), 'hex') : Buffer.from(text, 'utf8');
    default:
      throw new UnencodableAttribute(`${name} has type ${type}, which radius-bridge does not send`);
  }
}

/** One attribute in the package's array form: standard, or wrapped in its own Vendor-Specific (one VSA each). */
function libraryAttribute(attribute: ReplyAttribute): unknown[] {
  const standard = library._attr_to(attribute.name, undefined, ATTR_TYPE) as string | undefined;
  if (standard !== undefined) return [attribute.name, libraryValue(attribute.name, standard, attribute.value)];
  const mikrotik = library._attr_to(attribute.name, MIKROTIK, ATTR_TYPE) as string | undefined;
  if (mikrotik !== undefined) return ['Vendor-Specific', MIKROTIK, [[attribute.name, libraryValue(attribute.name, mikrotik, attribute.value)]]];
  throw new UnencodableAttribute(`${attribute.name} is not in the dictionaries`);
}

/** True when the dictionaries know the attribute (a reply row naming anything else cannot be sent). */
/**
 * One request attribute by name, read from the raw attributes only when asked (the authentication path needs
 * two or three of them, not a full decode): as FreeRADIUS prints it — text, an integer's dictionary name, a
 * dotted address, a date in unix seconds, other octets as 0x… hex. A value of the wrong size for its type is
 * absent, as FreeRADIUS keeps it as an unnamed raw attribute. Vendor attributes fall back to a full decode.
 */
export function attributeReader(packet: Buffer, attributes: readonly Readonly<{ type: number; value: Buffer }>[]): (name: string) => string | undefined {
  let decoded: NamedAttributes | null = null;
  return (name) => {
    const id = library._attr_to(name, undefined, ATTR_ID);
    if (id === undefined) {
      if (decoded === null) {
        try {
          decoded = decodeAttributes(packet);
        } catch {
          decoded = new Map();
        }
      }
      return decoded.get(name)?.[0];
    }
    const type = Number(id);
    const raw = attributes.find((attribute) => attribute.type === type)?.value;
    if (raw === undefined || type === 26) return undefined;
    switch (library._attr_to(name, undefined, ATTR_TYPE)) {
      case 'string':
      case 'text':
        return raw.toString('utf8');
      case 'integer':
      case 'time': {
        if (raw.length !== 4) return undefined;
        const value = raw.readUInt32BE(0);
        const names = library._attr_to(name, undefined, ATTR_ENUM) as Record<string, string> | undefined;
        return names?.[String(value)] ?? String(value);
      }
      case 'date':
        return raw.length === 4 ? String(raw.readUInt32BE(0)) : undefined;
      case 'ipaddr':
        return raw.length === 4 ? `${raw[0]}.${raw[1]}.${raw[2]}.${raw[3]}` : undefined;
      default:
        return `0x${raw.toString('hex')}`;
    }
  };
}

export function isKnownAttribute(name: string): boolean {
  return library._attr_to(name, undefined, ATTR_TYPE) !== undefined || library._attr_to(name, MIKROTIK, ATTR_TYPE) !== undefined;
}

/**
 * The attributes as TLV bytes, in order. The package frames them in a packet; the code is Access-Request only
 * so that it computes no authenticator (wire.signReply signs the real reply), and only the TLVs are kept.
 */
export function encodeAttributes(attributes: readonly ReplyAttribute[]): Buffer {
  return encodeUncached(attributes);
}

const ENCODED_CACHE_LIMIT = 20_000;
const encoded_cache = new Map<string, Buffer>();

/**
 * encodeAttributes for replies, remembered: thousands of customers on one package get the same attributes
 * (only Session-Timeout and a static IP differ), so most replies are a cache hit. Bounded; cleared when full.
 */
export function encodeReplyAttributes(attributes: readonly ReplyAttribute[]): Buffer {
  let key = '';
  for (const attribute of attributes) key += `${attribute.name}\u0000${attribute.value}\u0000`;
  const cached = encoded_cache.get(key);
  if (cached !== undefined) return cached;
  const encoded = encodeUncached(attributes);
  if (encoded_cache.size >= ENCODED_CACHE_LIMIT) encoded_cache.clear();
  encoded_cache.set(key, encoded);
  return encoded;
}

function encodeUncached(attributes: readonly ReplyAttribute[]): Buffer {
  const prepared = attributes.map(libraryAttribute);
  let packet: Buffer;
  try {
    packet = library.encode({ code: 'Access-Request', secret: 'unused', identifier: 0, authenticator: ZERO_AUTHENTICATOR, attributes: prepared, add_message_authenticator: false });
  } catch (error) {
    throw new UnencodableAttribute(error instanceof Error ? error.message : String(error));
  }
  return Buffer.from(packet.subarray(20));
}
