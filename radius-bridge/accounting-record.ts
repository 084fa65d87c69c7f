import { createHash } from 'node:crypto';
import { normaliseIpAddress, normaliseIpv6 } from '../domain/customers/identifiers.js';
import { ATTRIBUTE, firstAttribute, type ParsedPacket } from './wire.js';

/**
 * An Accounting-Request as FreeRADIUS 3.2 expands it for its SQL (preprocess, acct_unique, then the xlats of
 * queries.conf): one record per request for migrations/0005's `ispbills_radacct_apply`. Strings are '' when the
 * attribute is absent, the NULLIF(…) columns are null, numbers are what `%{integer:…}` prints.
 */
export type AcctStatus = 'start' | 'stop' | 'interim-update' | 'accounting-on' | 'accounting-off' | 'other';

export type AccountingRecord = Readonly<{
  status: AcctStatus;
  acctsessionid: string;
  acctuniqueid: string;
  username: string;
  realm: null;
  nasipaddress: string;
  nasportid: string | null;
  nasporttype: string;
  epoch: number;
  session_time: number | null;
  acctauthentic: string;
  connectinfo: string;
  input_octets: string;
  output_octets: string;
  calledstationid: string;
  callingstationid: string;
  terminatecause: string;
  servicetype: string;
  framedprotocol: string;
  framedipaddress: string | null;
  framedipv6address: string | null;
  framedipv6prefix: string | null;
  framedinterfaceid: string | null;
  delegatedipv6prefix: string | null;
}>;

const STATUS: Readonly<Record<number, AcctStatus>> = { 1: 'start', 2: 'stop', 3: 'interim-update', 7: 'accounting-on', 8: 'accounting-off' };

const integer = (value: Buffer | null): number | null => (value !== null && value.length === 4 ? value.readUInt32BE(0) : null);

const ipv4 = (value: Buffer | null): string | null => (value !== null && value.length === 4 ? `${value[0]}.${value[1]}.${value[2]}.${value[3]}` : null);

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return normaliseIpv6(groups.join(':'))!;
}

const ipv6Address = (value: Buffer | null): string | null => (value !== null && value.length === 16 ? ipv6(value) : null);

/** RFC 3162 §2.3: reserved octet, prefix length, then at most 16 octets of prefix. */
function ipv6Prefix(value: Buffer | null): string | null {
  if (value === null || value.length < 2 || value.length > 18 || value[1]! > 128) return null;
  const bytes = Buffer.alloc(16);
  value.copy(bytes, 0, 2);
  return `${ipv6(bytes)}/${value[1]}`;
}

/** FreeRADIUS prints an interface id as four 16-bit groups in hex without leading zeros. */
function interfaceId(value: Buffer | null): string | null {
  if (value === null || value.length !== 8) return null;
  return [0, 2, 4, 6].map((i) => value.readUInt16BE(i).toString(16)).join(':');
}

/** A request attribute by dictionary name, as FreeRADIUS prints it (attribute-codec's attributeReader). */
export type AttributeLookup = (name: string) => string | undefined;

/** `%{Name}` of an attribute the dictionary gives values to (NAS-Port-Type = Ethernet), or ''. */
const named = (attributes: AttributeLookup, name: string): string => attributes(name) ?? '';

/**
 * acct_unique (policy.d/accounting): md5 of "User-Name,Acct-Session-Id,NAS-IP(v6),NAS-Identifier,NAS-Port-Id,
 * NAS-Port" over the raw octets, or of "<32 hex>,Acct-Session-Id" when the router echoes a Class of the form
 * "ai:<32 hex>" (what FreeRADIUS' insert_acct_class policy hands out).
 */
export function acctUniqueId(parsed: Pick<ParsedPacket, 'attributes'>, nas_address: string): string {
  const raw = (type: number): Buffer => firstAttribute(parsed, type) ?? Buffer.alloc(0);
  const session = raw(ATTRIBUTE.ACCT_SESSION_ID);
  const klass = firstAttribute(parsed, ATTRIBUTE.CLASS);
  if (klass !== null) {
    const match = /^ai:([0-9a-f]{32})/i.exec(klass.toString('latin1'));
    if (match !== null) return createHash('md5').update(Buffer.concat([Buffer.from(`${match[1]!},`, 'latin1'), session])).digest('hex');
  }
  const port = integer(firstAttribute(parsed, ATTRIBUTE.NAS_PORT));
  const comma = Buffer.from(',');
  return createHash('md5')
    .update(
      Buffer.concat([
        raw(ATTRIBUTE.USER_NAME),
        comma,
        session,
        comma,
        Buffer.from(nas_address),
        comma,
        raw(ATTRIBUTE.NAS_IDENTIFIER),
        comma,
        raw(ATTRIBUTE.NAS_PORT_ID),
        comma,
        Buffer.from(port === null ? '' : String(port)),
      ]),
    )
    .digest('hex');
}

/** The NAS address FreeRADIUS records: NAS-IPv6-Address, else NAS-IP-Address, else (preprocess) the source. */
export function nasAddressOf(parsed: Pick<ParsedPacket, 'attributes'>, source_address: string): string {
  return (
    ipv6Address(firstAttribute(parsed, ATTRIBUTE.NAS_IPV6_ADDRESS)) ??
    ipv4(firstAttribute(parsed, ATTRIBUTE.NAS_IP_ADDRESS)) ??
    normaliseIpAddress(source_address) ??
    source_address
  );
}

const text = (value: Buffer | null): string => (value === null ? '' : value.toString('utf8'));

export function accountingRecord(parsed: ParsedPacket, attributes: AttributeLookup, source_address: string, now_seconds: number): AccountingRecord {
  const status_value = integer(firstAttribute(parsed, ATTRIBUTE.ACCT_STATUS_TYPE));
  const status = status_value === null ? 'other' : (STATUS[status_value] ?? 'other');
  const nasipaddress = nasAddressOf(parsed, source_address);
  // preprocess: Event-Timestamp, when absent, is the arrival time less a sane Acct-Delay-Time.
  let epoch = integer(firstAttribute(parsed, ATTRIBUTE.EVENT_TIMESTAMP));
  if (epoch === null) {
    const delay = integer(firstAttribute(parsed, ATTRIBUTE.ACCT_DELAY_TIME));
    epoch = delay !== null && delay !== 0 && delay < now_seconds ? now_seconds - delay : now_seconds;
  }
  const octets = (gigawords: number, low: number): string =>
    ((BigInt(integer(firstAttribute(parsed, gigawords)) ?? 0) << 32n) + BigInt(integer(firstAttribute(parsed, low)) ?? 0)).toString();
  const port_id = text(firstAttribute(parsed, ATTRIBUTE.NAS_PORT_ID));
  const port = integer(firstAttribute(parsed, ATTRIBUTE.NAS_PORT));
  const framed_protocol = named(attributes, 'Framed-Protocol');
  // preprocess (rad_mangle): Framed-Protocol without Service-Type means Service-Type = Framed-User.
  const service_type = named(attributes, 'Service-Type') || (framed_protocol !== '' ? 'Framed-User' : '');
  const terminate_cause = named(attributes, 'Acct-Terminate-Cause');
  return {
    status,
    acctsessionid: text(firstAttribute(parsed, ATTRIBUTE.ACCT_SESSION_ID)),
    acctuniqueid: acctUniqueId(parsed, nasipaddress),
    username: text(firstAttribute(parsed, ATTRIBUTE.USER_NAME)),
    realm: null,
    nasipaddress,
    nasportid: port_id !== '' ? port_id : port !== null ? String(port) : null,
    nasporttype: named(attributes, 'NAS-Port-Type'),
    epoch,
    session_time: integer(firstAttribute(parsed, ATTRIBUTE.ACCT_SESSION_TIME)),
    acctauthentic: named(attributes, 'Acct-Authentic'),
    connectinfo: text(firstAttribute(parsed, ATTRIBUTE.CONNECT_INFO)),
    input_octets: octets(ATTRIBUTE.ACCT_INPUT_GIGAWORDS, ATTRIBUTE.ACCT_INPUT_OCTETS),
    output_octets: octets(ATTRIBUTE.ACCT_OUTPUT_GIGAWORDS, ATTRIBUTE.ACCT_OUTPUT_OCTETS),
    calledstationid: text(firstAttribute(parsed, ATTRIBUTE.CALLED_STATION_ID)),
    callingstationid: text(firstAttribute(parsed, ATTRIBUTE.CALLING_STATION_ID)),
    // Accounting-On/Off close sessions with the router's cause or NAS-Reboot.
    terminatecause: status === 'accounting-on' || status === 'accounting-off' ? terminate_cause || 'NAS-Reboot' : terminate_cause,
    servicetype: service_type,
    framedprotocol: framed_protocol,
    framedipaddress: ipv4(firstAttribute(parsed, ATTRIBUTE.FRAMED_IP_ADDRESS)),
    framedipv6address: ipv6Address(firstAttribute(parsed, ATTRIBUTE.FRAMED_IPV6_ADDRESS)),
    framedipv6prefix: ipv6Prefix(firstAttribute(parsed, ATTRIBUTE.FRAMED_IPV6_PREFIX)),
    framedinterfaceid: interfaceId(firstAttribute(parsed, ATTRIBUTE.FRAMED_INTERFACE_ID)),
    delegatedipv6prefix: ipv6Prefix(firstAttribute(parsed, ATTRIBUTE.DELEGATED_IPV6_PREFIX)),
  };
}
