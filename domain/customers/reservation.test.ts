import { describe, expect, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { normaliseIpv4, normaliseMac, normaliseUsername, reservationStream } from './identifiers.js';
import { decideRelease, decideReserve, evolveReservation, initialReservationState, type ReservationEvent } from './reservation.js';

const reserved = (kind: 'username' | 'mac' | 'static_ip', value: string, customer_id: string): ReservationEvent => ({ type: 'identifier-reserved', data: { kind, value, customer_id } });
const released = (kind: 'username' | 'mac' | 'static_ip', value: string, customer_id: string): ReservationEvent => ({ type: 'identifier-released', data: { kind, value, customer_id } });

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

  it('keeps usernames as typed (trimmed) and refuses ones RADIUS cannot carry', () => {
    expect(normaliseUsername(' Alice.01@mirpur ')).toBe('Alice.01@mirpur');
    for (const raw of ['ab', 'alice smith', 'a'.repeat(65), 'alice#1']) expect(normaliseUsername(raw)).toBeNull();
  });

  it('names one reservation stream per identifier and ISP, usernames ignoring case', () => {
    expect(reservationStream('isp-1', 'username', 'Alice')).toBe('reservation-username:isp-1:alice');
    expect(reservationStream('isp-1', 'username', 'ALICE')).toBe(reservationStream('isp-1', 'username', 'alice'));
    expect(reservationStream('isp-2', 'username', 'alice')).not.toBe(reservationStream('isp-1', 'username', 'alice'));
    expect(reservationStream('isp-1', 'mac', 'AA:BB:CC:DD:EE:FF')).toBe('reservation-mac:isp-1:AA:BB:CC:DD:EE:FF');
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

  it('changes nothing when the customer does not hold it: free, or another customer’s', () => {
    given(evolveReservation, initialReservationState)
      .when((state) => decideRelease(state, 'mac', 'AA:BB:CC:DD:EE:FF', 'cus-1'))
      .thenNothingHappens();
    given(evolveReservation, initialReservationState, [reserved('mac', 'AA:BB:CC:DD:EE:FF', 'cus-2')])
      .when((state) => decideRelease(state, 'mac', 'AA:BB:CC:DD:EE:FF', 'cus-1'))
      .thenNothingHappens();
  });
});
