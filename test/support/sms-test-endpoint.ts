import http from 'node:http';

/**
 * An HTTP SMS gateway for tests, shaped like the ones Bangladeshi ISPs use: `GET /sms?to=…&text=…` answers
 * `{"message_id": "…"}`. `fail_next` makes the next requests answer with the given statuses (500 to test
 * retries, 400 for a permanent refusal).
 */
export type ReceivedSms = Readonly<{ to: string; text: string; at: number }>;

export class SmsTestEndpoint {
  readonly received: ReceivedSms[] = [];
  readonly fail_next: number[] = [];
  readonly #server: http.Server;
  port = 0;

  constructor() {
    this.#server = http.createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const status = this.fail_next.shift();
      if (status !== undefined) {
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `test failure ${status}` }));
        return;
      }
      if (url.pathname !== '/sms' || !url.searchParams.has('to') || !url.searchParams.has('text')) {
        response.writeHead(400).end('to and text are required');
        return;
      }
      this.received.push({ to: url.searchParams.get('to')!, text: url.searchParams.get('text')!, at: Date.now() });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ message_id: `sms-${this.received.length}` }));
    });
  }

  get url_template(): string {
    return `http://127.0.0.1:${this.port}/sms?to={{to}}&text={{text}}`;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return this.port;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
