import { describe, expect, it } from 'vitest';
import { networkContains, normaliseHost, normaliseNetwork, normalisePoolRanges, parseNetwork, poolContains } from './networks.js';

describe('router address arithmetic', () => {
  it('knows which networks hold an address, IPv4 and IPv6, and never across families', () => {
    const v4 = parseNetwork('10.20.0.0/16')!;
    expect(networkContains(v4, '10.20.255.1')).toBe(true);
    expect(networkContains(v4, '10.21.0.1')).toBe(false);
    expect(networkContains(v4, '::ffff:10.20.0.9')).toBe(true);
    expect(networkContains(parseNetwork('0.0.0.0/0')!, '192.0.2.1')).toBe(true);
    expect(networkContains(parseNetwork('10.20.0.7/32')!, '10.20.0.7')).toBe(true);
    const v6 = parseNetwork('2001:db8::/32')!;
    expect(networkContains(v6, '2001:DB8:ffff::1')).toBe(true);
    expect(networkContains(v6, '2001:db9::1')).toBe(false);
    expect(networkContains(v6, '10.20.0.1')).toBe(false);
    expect(normaliseNetwork('2001:0DB8:0::/48')).toBe('2001:db8::/48');
    expect(normaliseNetwork('10.20.0.1/16')).toBeNull();
  });

  it('reads pool ranges like RouterOS writes them', () => {
    const ranges = normalisePoolRanges(' 100.64.0.2-100.64.0.10 ,100.64.1.0/30,100.64.2.7')!;
    expect(ranges).toBe('100.64.0.2-100.64.0.10,100.64.1.0/30,100.64.2.7');
    for (const inside of ['100.64.0.2', '100.64.0.10', '100.64.1.3', '100.64.2.7']) expect(poolContains(ranges, inside)).toBe(true);
    for (const outside of ['100.64.0.1', '100.64.0.11', '100.64.1.4', '100.64.2.8', 'nonsense']) expect(poolContains(ranges, outside)).toBe(false);
    expect(normalisePoolRanges('100.64.0.2-100.64.0.1')).toBeNull();
  });

  it('takes DNS names and addresses as hosts', () => {
    expect(normaliseHost('Router-1.Example.Net')).toBe('router-1.example.net');
    expect(normaliseHost('010.0.0.1')).toBeNull();
    expect(normaliseHost('2001:DB8::1')).toBe('2001:db8::1');
    for (const bad of ['', 'a b', '-a.example', 'a-.example', 'x'.repeat(64) + '.example']) expect(normaliseHost(bad)).toBeNull();
  });
});
