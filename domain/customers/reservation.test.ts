import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { normaliseIpAddress, normaliseIpv4, normaliseIpv6, normaliseMac, normaliseUsername, reservationStream, type CustomerIdentifierKind } from './identifiers.js';
import { decideRelease, decideReserve, evolveReservation, initialReservationState, type ReservationEvent } from './reservation.js';

const reserved = (kind: CustomerIdentifierKind, value: string, customer_id: string): ReservationEvent => ({ type: 'identifier-reserved', data: { kind, value, customer_id } });
const released = (kind: CustomerIdentifierKind, value: string, customer_id: string): ReservationEvent => ({ type: 'identifier-released', data: { kind, value, customer_id } });
const nasIpReserved = (value: string, router_id: string): ReservationEvent => ({ type: 'identifier-reserved', data: { kind: 'nas_ip', value, router_id } });
const nasIpReleased = (value: string, router_id: string): ReservationEvent => ({ type: 'identifier-released', data: { kind: 'nas_ip', value, router_id } });

describe('normalising identifiers', () => {
  it('writes every MAC format RouterOS uses as upper-case colon pairs', () => {
    for (const raw of ['aa-bb-cc-dd-ee-ff', 'AABB.CCDD.EEFF', 'aa:bb:cc:dd:ee:ff', 'AABBCCDDEEFF', ' Aa-bB-cc-DD-ee-FF ']) {
      expect(normaliseMac(raw)).toBe('AA:BB:CC:DD:EE:FF');
    }
    for (const raw of ['aa-bb-cc-dd-ee', 'gg-bb-cc-dd-ee-ff', 'aa-bb-cc-dd-ee-ff-00', '']) expect(normaliseMac(raw)).toBeNull();
  });

  it('accepts dotted-quad IPv4 addresses only, without leading zeros', () => {
    expect(normaliseIpv4(' 10.20.0.7 ')).toBe('10.20.0.7');
    expect(normaliseIpv4('0.0.0.0')).toBe('0.0.0.0');
    for (const raw of ['10.20.0.256', '10.20.0', '10.20.0.07', '10.20.0.7.1', 'a.b.c.d', '10.20.0.-1']) expect(normaliseIpv4(raw)).toBeNull();
  });

  it('writes an IPv6 address one way only (RFC 5952): lower case, no leading zeros, the longest zero run as ::', () => {
    const cases: readonly (readonly [string, string])[] = [
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0::1', '2001:db8::1'],
      [' ::1 ', '::1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['64:ff9b::10.0.0.1', '64:ff9b::a00:1'],
    ];
    for (const [raw, written] of cases) expect(normaliseIpv6(raw)).toBe(written);
    // The same text form as the WHATWG URL parser's, which follows RFC 5952 too.
    for (const [raw] of cases) expect(normaliseIpv6(raw)).toBe(new URL(`http://[${raw.trim()}]`).hostname.slice(1, -1));
    for (const raw of ['1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', ':1::', '1:::2', '12345::', 'g::', '::1.2.3', '1.2.3.4::', '::ffff: 1.2.3.4', 'fe80::1%ether1', '']) {
      expect(normaliseIpv6(raw)).toBeNull();
    }
  });

  it('writes any address, however it is spelled, as the WHATWG URL parser does', () => {
    // Zero groups are common so that runs of them, ties between runs and all-zero addresses come up often.
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    const spelling = fc.record({ upper: fc.boolean(), padded: fc.boolean() });
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), spelling, (groups, { upper, padded }) => {
        const text = groups.map((g) => (padded ? g.toString(16).padStart(4, '0') : g.toString(16))).join(':');
        const raw = upper ? text.toUpperCase() : text;
        expect(normaliseIpv6(raw)).toBe(new URL(`http://[${raw}]`).hostname.slice(1, -1));
        // The normalised form is a fixed point.
        expect(normaliseIpv6(normaliseIpv6(raw)!)).toBe(normaliseIpv6(raw));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts as a NAS IP exactly what node:net calls an address, zone ids aside, and an IPv4-mapped one as its IPv4 address', () => {
    expect(normaliseIpAddress(' 10.0.0.1 ')).toBe('10.0.0.1');
    expect(normaliseIpAddress('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(normaliseIpAddress('::ffff:a00:1')).toBe('10.0.0.1');
    expect(normaliseIpAddress('2001:DB8::1')).toBe('2001:db8::1');
    const raws = ['10.0.0.1', '255.255.255.255', '10.0.0.01', '1.2.3', '::', '::1', '1::', '2001:db8::1', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.04', '1:2:3:4:5:6:7:8:9', ':::', 'host', '1::2::3', 'fe80::1%ether1'];
    for (const raw of raws) expect(normaliseIpAddress(raw) !== null, raw).toBe(isIP(raw) !== 0 && !raw.includes('%'));
  });

  it('keeps usernames as typed (trimmed) and refuses ones RADIUS cannot carry', () => {
    expect(normaliseUsername(' Alice.01@mirpur ')).toBe('Alice.01@mirpur');
    for (const raw of ['ab', 'alice smith', 'a'.repeat(65), 'alice#1']) expect(normaliseUsername(raw)).toBeNull();
  });

  it('names one reservation stream per identifier and ISP, usernames ignoring case', () => {
    expect(reservationStream('isp-1', 'username', 'Alice')).toBe('reservation-username:isp-1:alice');
    expect(reservationStream('isp-1', 'username', 'ALICE')).toBe(reservationStream('isp-1', 'username', 'alice'));
    expect(reservationStream('isp-2', 'username', 'alice')).not.toBe(reservationStream('isp-1', 'username', 'alice'));
    expect(reservationStream('isp-1', 'mac', 'AA:BB:CC:DD:EE:FF')).toBe('reservation-mac:isp-1:AA:BB:CC:DD:EE:FF');
    expect(reservationStream('isp-1', 'nas_ip', '2001:db8::1')).toBe('reservation-nas_ip:isp-1:2001:db8::1');
    // Ids hold no ':', so an ISP whose id looks like another's name plus a kind cannot share a stream with it.
    expect(reservationStream('t-username-u', 'username', 'x')).not.toBe(reservationStream('t', 'username', 'u-username-x'));
  });
});

describe('reserving an identifier', () => {
  it('reserves a free identifier for the customer', () => {
    given(evolveReservation, initialReservationState)
      .when((state) => decideReserve(state, 'username', 'alice', 'cus-1'))
      .then([reserved('username', 'alice', 'cus-1')]);
  });

  it('refuses an identifier another customer holds, with the code of its kind', () => {
    given(evolveReservation, initialReservationState, [reserved('username', 'alice', 'cus-1')])
      .when((state) => decideReserve(state, 'username', 'alice', 'cus-2'))
      .thenRejects('USERNAME_TAKEN');
    given(evolveReservation, initialReservationState, [reserved('mac', 'AA:BB:CC:DD:EE:FF', 'cus-1')])
      .when((state) => decideReserve(state, 'mac', 'AA:BB:CC:DD:EE:FF', 'cus-2'))
      .thenRejects('MAC_TAKEN');
    given(evolveReservation, initialReservationState, [reserved('static_ip', '10.20.0.7', 'cus-1')])
      .when((state) => decideReserve(state, 'static_ip', '10.20.0.7', 'cus-2'))
      .thenRejects('STATIC_IP_TAKEN');
  });

  it('reserves a NAS IP for a router, and refuses it to another router with NAS_IP_TAKEN', () => {
    given(evolveReservation, initialReservationState)
      .when((state) => decideReserve(state, 'nas_ip', '10.0.0.1', 'rtr-1'))
      .then([nasIpReserved('10.0.0.1', 'rtr-1')]);
    const refused = given(evolveReservation, initialReservationState, [nasIpReserved('10.0.0.1', 'rtr-1')])
      .when((state) => decideReserve(state, 'nas_ip', '10.0.0.1', 'rtr-2'))
      .thenRejects('NAS_IP_TAKEN');
    expect(refused.message).toBe('NAS IP 10.0.0.1 is already used by another router of this ISP');
    given(evolveReservation, initialReservationState, [nasIpReserved('10.0.0.1', 'rtr-1')])
      .when((state) => decideReserve(state, 'nas_ip', '10.0.0.1', 'rtr-1'))
      .thenNothingHappens();
    given(evolveReservation, initialReservationState, [nasIpReserved('10.0.0.1', 'rtr-1'), nasIpReleased('10.0.0.1', 'rtr-1')])
      .when((state) => decideReserve(state, 'nas_ip', '10.0.0.1', 'rtr-2'))
      .then([nasIpReserved('10.0.0.1', 'rtr-2')]);
  });

  it('changes nothing when the same customer reserves it again', () => {
    given(evolveReservation, initialReservationState, [reserved('username', 'alice', 'cus-1')])
      .when((state) => decideReserve(state, 'username', 'alice', 'cus-1'))
      .thenNothingHappens();
  });

  it('lets another customer take an identifier once it is released', () => {
    given(evolveReservation, initialReservationState, [reserved('username', 'alice', 'cus-1'), released('username', 'alice', 'cus-1')])
      .when((state) => decideReserve(state, 'username', 'alice', 'cus-2'))
      .then([reserved('username', 'alice', 'cus-2')]);
  });
});

describe('releasing an identifier', () => {
  it('releases what the customer holds', () => {
    given(evolveReservation, initialReservationState, [reserved('mac', 'AA:BB:CC:DD:EE:FF', 'cus-1')])
      .when((state) => decideRelease(state, 'mac', 'AA:BB:CC:DD:EE:FF', 'cus-1'))
      .then([released('mac', 'AA:BB:CC:DD:EE:FF', 'cus-1')]);
  });

  it('releases a router’s NAS IP, and only its own', () => {
    given(evolveReservation, initialReservationState, [nasIpReserved('2001:db8::1', 'rtr-1')])
      .when((state) => decideRelease(state, 'nas_ip', '2001:db8::1', 'rtr-1'))
      .then([nasIpReleased('2001:db8::1', 'rtr-1')]);
    given(evolveReservation, initialReservationState, [nasIpReserved('2001:db8::1', 'rtr-2')])
      .when((state) => decideRelease(state, 'nas_ip', '2001:db8::1', 'rtr-1'))
      .thenNothingHappens();
  });

  it('changes nothing when the customer does not hold it: free, or another customer’s', () => {
    given(evolveReservation, initialReservationState)
      .when((state) => decideRelease(state, 'mac', 'AA:BB:CC:DD:EE:FF', 'cus-1'))
      .thenNothingHappens();
    given(evolveReservation, initialReservationState, [reserved('mac', 'AA:BB:CC:DD:EE:FF', 'cus-2')])
      .when((state) => decideRelease(state, 'mac', 'AA:BB:CC:DD:EE:FF', 'cus-1'))
      .thenNothingHappens();
  });
});
