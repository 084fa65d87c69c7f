import { createHash } from 'node:crypto';
import type { HotspotVisit } from './visit.js';

/**
 * Logging a device in at the router, as RouterOS' own login.html does: a form posted to `$(link-login-only)` with
 * `username`, `password`, `dst` (where to go next) and `popup`.
 *
 * The credentials are the device's MAC as user name and password: what radius-bridge accepts for a hotspot
 * customer with a MAC (the RADIUS projection writes `<MAC> Cleartext-Password := <MAC>`, MikroTik's
 * mac-as-username-and-password) and what the router itself sends when the device comes back (login by MAC, no
 * page). A MAC is no secret — every router on the way sees it — so nothing is given away by posting it, and the
 * person never needs a password.
 *
 * When the hotspot profile logs in by `http-chap` (one-click setup sets `login-by=mac,http-chap`), the router's
 * login.html gives `$(chap-id)` and `$(chap-challenge)`, and the password field must carry
 * hex(MD5(chap-id ‖ password ‖ chap-challenge)), which MikroTik's md5.js computes in the browser; here the server
 * computes it, so the page needs no script. Without them (`http-pap`), the password is sent as it is.
 */
export type RouterLoginForm = Readonly<{ action: string; origin: string; username: string; password: string; dst: string; chap: boolean }>;

/**
 * RouterOS writes CHAP values into login.html for JavaScript string literals: each byte as an octal escape
 * (`\357`), printable characters possibly as themselves. The bytes they stand for, or null.
 */
export function decodeChapText(value: string): Buffer | null {
  const bytes: number[] = [];
  for (let index = 0; index < value.length; ) {
    if (value[index] === '\\') {
      const octal = /^[0-7]{3}$/.exec(value.slice(index + 1, index + 4));
      if (octal === null) return null;
      const byte = parseInt(octal[0], 8);
      if (byte > 255) return null;
      bytes.push(byte);
      index += 4;
    } else {
      const code = value.charCodeAt(index);
      if (code < 0x20 || code > 0x7e) return null;
      bytes.push(code);
      index += 1;
    }
  }
  return bytes.length === 0 ? null : Buffer.from(bytes);
}

/** MikroTik's hexMD5(chap-id + password + chap-challenge): lower-case hex. */
export function chapResponse(chap_id: Buffer, password: string, challenge: Buffer): string {
  return createHash('md5').update(Buffer.concat([chap_id, Buffer.from(password, 'latin1'), challenge])).digest('hex');
}

/** The form that logs this device in at the router, or null when the visit did not say where the router is. */
export function routerLoginForm(visit: HotspotVisit, mac: string): RouterLoginForm | null {
  if (visit.link_login_only === null) return null;
  const id = visit.chap_id === null ? null : decodeChapText(visit.chap_id);
  const challenge = visit.chap_challenge === null ? null : decodeChapText(visit.chap_challenge);
  const chap = id !== null && challenge !== null && id.length === 1;
  return {
    action: visit.link_login_only,
    origin: new URL(visit.link_login_only).origin,
    username: mac,
    password: chap ? chapResponse(id, mac, challenge) : mac,
    dst: visit.link_orig ?? '',
    chap,
  };
}
