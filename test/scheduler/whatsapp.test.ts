import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError, HttpProvider } from '../../notifications/providers.js';

/**
 * WhatsApp (and any gateway that wants JSON) through the HTTP provider: a POST whose body is rendered from the
 * configured template with JSON-quoted values, the Authorization header, the provider's message id from its
 * answer, and its refusals classified as final or worth retrying.
 */
type Received = { method: string; url: string; authorization: string | undefined; body: unknown };
const received: Received[] = [];
const statuses: number[] = [];
let server: http.Server;
let port = 0;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') });
      const status = statuses.shift() ?? 200;
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(status === 200 ? { messages: [{ id: `wamid.${received.length}` }] } : { error: { message: 'nope' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const provider = () =>
  new HttpProvider({
    name: 'http-whatsapp',
    channel: 'whatsapp',
    url_template: `http://127.0.0.1:${port}/v21.0/12345/messages`,
    body_template: '{"messaging_product": "whatsapp", "to": {{json to}}, "type": "text", "text": {"body": {{json text}} }}',
    content_type: 'application/json',
    headers: { authorization: 'Bearer test-token' },
    rate_per_second: 5,
  });

describe('the HTTP provider as a WhatsApp gateway', () => {
  it('POSTs the rendered JSON with the token and returns the message id', async () => {
    const text = 'প্রিয় Rahim, "quotes" and\nnew lines survive';
    const delivered = await provider().send({ notification_id: '7', to: '+8801711000001', subject: null, body: text });
    expect(delivered).toEqual({ provider_message_id: 'wamid.1' });
    expect(received[0]).toEqual({
      method: 'POST',
      url: '/v21.0/12345/messages',
      authorization: 'Bearer test-token',
      body: { messaging_product: 'whatsapp', to: '+8801711000001', type: 'text', text: { body: text } },
    });
  });

  it('classifies refusals: 4xx final, 429 and 5xx worth retrying', async () => {
    for (const [status, permanent] of [[400, true], [401, true], [429, false], [503, false]] as const) {
      statuses.push(status);
      const error = await provider().send({ notification_id: 'x', to: '+8801711000001', subject: null, body: 'hi' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DeliveryError);
      expect((error as DeliveryError).permanent).toBe(permanent);
    }
  });

  it('refuses a template that names a value it does not have, at construction', () => {
    expect(() => new HttpProvider({ name: 'bad', channel: 'whatsapp', url_template: 'http://127.0.0.1/{{phone}}', body_template: null, content_type: 'application/json', headers: {}, rate_per_second: 1 })).toThrow();
  });
});
