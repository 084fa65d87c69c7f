import { describe, expect, it } from 'vitest';
import { routerLoginPage, ROUTEROS_VARIABLES } from './login-html.js';
import { chapResponse, decodeChapText, routerLoginForm } from './router-login.js';
import { checkedVisit } from './visit.js';

describe('the router login the hotspot page posts', () => {
  it('reads RouterOS’ CHAP values as login.html writes them: octal escapes, printable characters as themselves', () => {
    expect(decodeChapText('\\357')).toEqual(Buffer.from([0xef]));
    expect(decodeChapText('\\123 \\377\\000A')).toEqual(Buffer.from([0x53, 0x20, 0xff, 0x00, 0x41]));
    for (const bad of ['', '\\9', '\\12', '\\400', 'a\nb', '\\']) expect(decodeChapText(bad), JSON.stringify(bad)).toBeNull();
  });

  it('answers CHAP as MikroTik’s md5.js does: hex MD5 of id, password and challenge (vector computed with Python’s hashlib)', () => {
    const id = decodeChapText('\\357')!;
    const challenge = decodeChapText('\\123\\040\\377\\000\\012\\134\\200\\001\\002\\003\\004\\005\\006\\007\\010\\011')!;
    expect(chapResponse(id, 'A4:5E:60:1B:2C:3D', challenge)).toBe('6defd7d17e1730e8e99d3b7c96085569');
  });

  it('posts the MAC as user name and password, as the CHAP response when the router gave a challenge, and plain otherwise', () => {
    const visit = checkedVisit('core-1', { mac: 'a4-5e-60-1b-2c-3d', 'link-login-only': 'http://10.5.50.1/login', 'link-orig': 'http://example.com/', 'chap-id': '\\357', 'chap-challenge': '\\123\\040\\377\\000\\012\\134\\200\\001\\002\\003\\004\\005\\006\\007\\010\\011' }, 'en')!;
    expect(visit.mac).toBe('A4:5E:60:1B:2C:3D');
    expect(routerLoginForm(visit, visit.mac!)).toEqual({ action: 'http://10.5.50.1/login', origin: 'http://10.5.50.1', username: 'A4:5E:60:1B:2C:3D', password: '6defd7d17e1730e8e99d3b7c96085569', dst: 'http://example.com/', chap: true });
    const pap = checkedVisit('core-1', { mac: 'A4:5E:60:1B:2C:3D', 'link-login-only': 'https://hotspot.lan/login' }, 'en')!;
    expect(routerLoginForm(pap, pap.mac!)).toMatchObject({ password: 'A4:5E:60:1B:2C:3D', chap: false, dst: '' });
    expect(routerLoginForm(checkedVisit('core-1', { mac: 'A4:5E:60:1B:2C:3D' }, 'en')!, 'A4:5E:60:1B:2C:3D')).toBeNull();
  });

  it('takes only an http(s) login URL without credentials from the redirect, and drops what is not well formed', () => {
    for (const link of ['javascript:alert(1)', 'data:text/html,x', 'http://user:pw@10.5.50.1/login', 'ftp://10.5.50.1/', 'not a url', `http://x/${'a'.repeat(600)}`]) {
      expect(checkedVisit('core-1', { 'link-login-only': link }, 'en')!.link_login_only, link).toBeNull();
    }
    const visit = checkedVisit('core-1', { mac: 'nonsense', ip: '10.5.50.999', 'chap-id': '\\'.repeat(20), lang: 'xx' }, 'bn')!;
    expect(visit).toMatchObject({ mac: null, ip: null, chap_id: null, lang: 'bn' });
    expect(checkedVisit('../etc', {}, 'en')).toBeNull();
  });
});

describe('the login.html for the router', () => {
  it('forwards to the router’s hotspot page with every RouterOS variable the page reads, in a form the browser encodes', () => {
    const page = routerLoginPage('https://billing.example.net', 'core-1', 'Demo <Net>');
    expect(page).toContain('<form name="portal" action="https://billing.example.net/hotspot/core-1" method="get">');
    for (const name of ROUTEROS_VARIABLES) expect(page).toContain(`<input type="hidden" name="${name}" value="$(${name})">`);
    expect(page).toContain('document.portal.submit()');
    expect(page).toContain('Demo &lt;Net&gt; Wi-Fi');
  });
});
