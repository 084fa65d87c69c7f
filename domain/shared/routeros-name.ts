/**
 * Names the ISP gives to things on its MikroTik routers and sends in RADIUS replies: IP pools
 * (Framed-Pool) and firewall address lists (Mikrotik-Address-List). Letters, digits, '_', '.' and '-', 1–64
 * long: nothing a RouterOS script or a RADIUS attribute would have to quote.
 */
const ROUTEROS_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function isRouterOsName(value: string): boolean {
  return ROUTEROS_NAME.test(value);
}
