import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { LatencyRecorder } from './measure.js';

/**
 * A lean RADIUS load generator: several UDP sockets (the 8-bit Identifier allows 256 requests in flight per
 * source port), packets signed at send time (each a fresh Request Authenticator, so no server can answer from
 * its duplicate cache), replies matched by socket and Identifier. Closed loop (a fixed number of requests in
 * flight: throughput at saturation) or open loop (a fixed offered rate: latency).
 */
export type Build = (identifier: number) => Buffer;

type Pending = { sent_at: number; resolve: (reply: Buffer | null) => void; timer: NodeJS.Timeout };

export type LoadResult = Readonly<{ sent: number; answered: number; timeouts: number; seconds: number; latency: LatencyRecorder; codes: ReadonlyMap<number, number> }>;

export class RadiusLoad {
  readonly #sockets: dgram.Socket[] = [];
  readonly #free: number[][] = [];
  readonly #pending: Map<number, Pending>[] = [];
  #next_socket = 0;

  constructor(
    private readonly port: number,
    private readonly timeout_ms = 2_000,
  ) {}

  async open(sockets: number): Promise<void> {
    for (let index = 0; index < sockets; index += 1) {
      const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024 });
      const pending = new Map<number, Pending>();
      socket.on('message', (message) => {
        const entry = pending.get(message[1]!);
        if (entry === undefined) return;
        pending.delete(message[1]!);
        clearTimeout(entry.timer);
        this.#free[index]!.push(message[1]!);
        entry.resolve(message);
      });
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      this.#sockets.push(socket);
      this.#pending.push(pending);
      this.#free.push(Array.from({ length: 256 }, (_, id) => id));
    }
  }

  async close(): Promise<void> {
    for (const pending of this.#pending) for (const entry of pending.values()) clearTimeout(entry.timer);
    await Promise.all(this.#sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  }

  /** Sends one request and resolves with the reply (null on timeout) and the latency in ms. */
  send(build: Build): Promise<{ reply: Buffer | null; ms: number }> {
    for (let tries = 0; tries < this.#sockets.length; tries += 1) {
      const index = this.#next_socket;
      this.#next_socket = (this.#next_socket + 1) % this.#sockets.length;
      const id = this.#free[index]!.shift();
      if (id === undefined) continue;
      const packet = build(id);
      return new Promise((resolve) => {
        const sent_at = performance.now();
        const timer = setTimeout(() => {
          this.#pending[index]!.delete(id);
          // The Identifier stays out of use a little longer, so a late reply cannot be taken for the next request.
          setTimeout(() => this.#free[index]!.push(id), this.timeout_ms);
          resolve({ reply: null, ms: performance.now() - sent_at });
        }, this.timeout_ms);
        this.#pending[index]!.set(id, { sent_at, timer, resolve: (reply) => resolve({ reply, ms: performance.now() - sent_at }) });
        this.#sockets[index]!.send(packet, this.port, '127.0.0.1');
      });
    }
    // Every Identifier of every socket is waiting for an answer: the server is that far behind; count it as unanswered.
    return Promise.resolve({ reply: null, ms: this.timeout_ms });
  }

  /** `window` loops, each running `operation` back to back for `seconds`. */
  async closedLoop(window: number, seconds: number, operation: (send: (build: Build) => Promise<Buffer | null>) => Promise<void>): Promise<LoadResult> {
    const latency = new LatencyRecorder();
    const codes = new Map<number, number>();
    let sent = 0;
    let answered = 0;
    let timeouts = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const send = async (build: Build): Promise<Buffer | null> => {
      sent += 1;
      const { reply, ms } = await this.send(build);
      if (reply === null) timeouts += 1;
      else {
        answered += 1;
        latency.record(ms);
        codes.set(reply[0]!, (codes.get(reply[0]!) ?? 0) + 1);
      }
      return reply;
    };
    await Promise.all(
      Array.from({ length: window }, async () => {
        while (performance.now() < deadline) await operation(send);
      }),
    );
    return { sent, answered, timeouts, seconds: (performance.now() - started) / 1000, latency, codes };
  }

  /** Offers `rate` requests per second for `seconds`, whatever the answers, and waits for the last ones. */
  async openLoop(rate: number, seconds: number, build: () => Build): Promise<LoadResult> {
    const latency = new LatencyRecorder();
    const codes = new Map<number, number>();
    let sent = 0;
    let answered = 0;
    let timeouts = 0;
    const inflight: Promise<void>[] = [];
    const started = performance.now();
    const total = Math.round(rate * seconds);
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        sent += 1;
        inflight.push(
          this.send(build()).then(({ reply, ms }) => {
            if (reply === null) timeouts += 1;
            else {
              answered += 1;
              latency.record(ms);
              codes.set(reply[0]!, (codes.get(reply[0]!) ?? 0) + 1);
            }
          }),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(inflight);
    return { sent, answered, timeouts, seconds: (performance.now() - started) / 1000, latency, codes };
  }
}

/** utime + stime, in seconds, of these processes and all their descendants (threads included). */
export function treeCpuSeconds(roots: readonly number[]): number {
  const processes: { pid: number; ppid: number; ticks: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime + stime, and cutime + cstime: the children it has reaped (PostgreSQL backends whose connection
      // closed during the run), which would otherwise leave the tree with their CPU time and make a delta negative.
      processes.push({ pid: Number(entry), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) });
    } catch {
      // exited meanwhile
    }
  }
  const included = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const entry of processes) {
      if (!included.has(entry.pid) && included.has(entry.ppid)) {
        included.add(entry.pid);
        grew = true;
      }
    }
  }
  return processes.filter((entry) => included.has(entry.pid)).reduce((sum, entry) => sum + entry.ticks, 0) / 100;
}
