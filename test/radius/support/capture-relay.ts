import dgram from 'node:dgram';

/**
 * A UDP relay between a RADIUS client (radclient) and a server that keeps every request and its reply as bytes,
 * so a test can check what radclient 3.2.1 does not: the reply's Message-Authenticator. It forwards from
 * 127.0.0.1, so the server still sees the router's address.
 */
export type Exchange = { request: Buffer; reply: Buffer | null };

export class CaptureRelay {
  readonly exchanges: Exchange[] = [];
  #front: dgram.Socket | null = null;
  readonly #upstreams = new Map<string, dgram.Socket>();
  port = 0;

  constructor(private readonly target_port: number) {}

  async start(): Promise<number> {
    const front = dgram.createSocket('udp4');
    front.on('message', (message, client) => void this.#forward(message, client));
    await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', () => resolve()));
    this.#front = front;
    this.port = front.address().port;
    return this.port;
  }

  async #forward(message: Buffer, client: dgram.RemoteInfo): Promise<void> {
    const key = `${client.address}:${client.port}`;
    let upstream = this.#upstreams.get(key);
    if (upstream === undefined) {
      upstream = dgram.createSocket('udp4');
      upstream.on('message', (reply) => {
        const pending = this.exchanges.find((exchange) => exchange.reply === null && exchange.request[1] === reply[1]);
        if (pending !== undefined) pending.reply = Buffer.from(reply);
        this.#front?.send(reply, client.port, client.address);
      });
      await new Promise<void>((resolve) => upstream!.bind(0, '127.0.0.1', () => resolve()));
      this.#upstreams.set(key, upstream);
    }
    this.exchanges.push({ request: Buffer.from(message), reply: null });
    upstream.send(message, this.target_port, '127.0.0.1');
  }

  async stop(): Promise<void> {
    const close = (socket: dgram.Socket) => new Promise<void>((resolve) => socket.close(() => resolve()));
    await Promise.all([...this.#upstreams.values()].map(close));
    if (this.#front !== null) await close(this.#front);
  }
}
