import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpProvider } from '../../notifications/providers.js';
import { logIn, PASSWORD, startApiWorld, type ApiWorld, type Session } from '../api/harness.js';
import { freePort } from '../support/free-port.js';
import { SmsTestEndpoint } from '../support/sms-test-endpoint.js';
import { SslcommerzTestServer } from '../support/sslcommerz-test-server.js';

/**
 * What the customer portal and hotspot browser tests run against: the app listening on a port and reached by the
 * browser as http://localhost:<port>, a local SSLCommerz (payment page included) calling back at
 * http://127.0.0.1:<port> — another site, as the real gateway is, so a return from paying is a cross-site
 * navigation like in life — and a local SMS gateway behind the notifications module's HTTP SMS provider.
 */
const STORE_ID = 'ispbillsweb0001';
const STORE_PASSWORD = 'ispbillsweb0001@ssl';

export type CustomerWorld = Readonly<{
  world: ApiWorld;
  /** The ISP's admin, logged in on the world's clock as it now is (the world's own sessions are from its start). */
  admin: Session;
  /** Where the browser opens the pages. */
  base: string;
  gateway: SslcommerzTestServer;
  sms: SmsTestEndpoint;
  /** The last one-time code sent to a number (E.164). */
  codeSentTo: (mobile: string) => string;
  eventCount: () => Promise<number>;
  close: () => Promise<void>;
}>;

export async function startCustomerWorld(): Promise<CustomerWorld> {
  const gateway = await new SslcommerzTestServer(STORE_ID, STORE_PASSWORD).start();
  const sms = new SmsTestEndpoint();
  await sms.start();
  const port = await freePort();
  // The API reads its gateway settings when it is built; each test file runs in a process of its own.
  Object.assign(process.env, {
    SSLCOMMERZ_STORE_ID: STORE_ID,
    SSLCOMMERZ_STORE_PASSWORD: STORE_PASSWORD,
    SSLCOMMERZ_API_URL: gateway.url,
    SSLCOMMERZ_TIMEOUT_MS: '5000',
    GATEWAY_CALLBACK_URL: `http://127.0.0.1:${port}`,
  });
  const provider = new HttpProvider({ name: 'http-sms', channel: 'sms', url_template: sms.url_template, body_template: null, content_type: 'application/json', headers: {}, rate_per_second: 1_000 });
  const world = await startApiWorld({ sms: provider, public_url: `http://localhost:${port}` });
  // RADIUS checks validity against the real time; the world's clock goes there too (its sessions then expire).
  world.clock.set(new Date());
  await world.app.listen({ host: '127.0.0.1', port });
  return {
    world,
    admin: await logIn(world.app, `admin@${world.a.tenant}`, PASSWORD),
    base: `http://localhost:${port}`,
    gateway,
    sms,
    codeSentTo: (mobile) => {
      const message = [...sms.received].reverse().find((received) => received.to === mobile);
      if (message === undefined) throw new Error(`no SMS was sent to ${mobile}`);
      return /^(\d{6}) /.exec(message.text)![1]!;
    },
    eventCount: async () => Number((await world.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n),
    close: async () => {
      await world.close();
      await gateway.stop();
      await sms.stop();
    },
  };
}

export type RouterLogin = Readonly<Record<string, string>>;

/**
 * A MikroTik hotspot's login URL (`$(link-login-only)`) for tests: records what a login page posts to it
 * (username, password, dst, popup) and answers as RouterOS does after a login, with a short page.
 */
export class TestRouterLogin {
  readonly received: RouterLogin[] = [];
  /** The login.html the router serves at GET /login, with RouterOS' `$(name)` variables filled in from `variables`. */
  login_html = '';
  variables: Record<string, string> = {};
  #server: http.Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.#server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method === 'GET' && request.url === '/login') {
          // RouterOS writes the values as they are (no HTML escaping), as here.
          const page = this.login_html.replace(/\$\(([a-z-]+)\)/g, (_whole, name: string) => this.variables[name] ?? '');
          response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
          return;
        }
        if (request.method === 'POST' && request.url === '/login') this.received.push(Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><html><head><title>hotspot</title><link rel="icon" href="data:,"></head><body><h1>You are logged in</h1></body></html>');
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/login`;
    return this;
  }

  async next(timeout_ms = 10_000): Promise<RouterLogin> {
    const deadline = Date.now() + timeout_ms;
    while (this.received.length === 0) {
      if (Date.now() > deadline) throw new Error('the router received no login');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.received.shift()!;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server === null ? resolve() : this.#server.close(() => resolve())));
  }
}
