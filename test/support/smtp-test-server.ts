import net from 'node:net';

/**
 * A small SMTP server for tests (RFC 5321, no TLS, no AUTH): it speaks the protocol nodemailer and any mail
 * client speak — greeting, EHLO/HELO, MAIL FROM, RCPT TO, DATA with dot-stuffing, RSET, NOOP, QUIT — and keeps
 * every message it accepted. `reject_next` makes it answer the next RCPT with a 550, for failure tests.
 */
export type ReceivedMail = Readonly<{ from: string; to: readonly string[]; data: string; headers: Readonly<Record<string, string>>; text: string }>;

/** A line longer than this (RFC 5321 allows 1000 with CRLF) or a message larger than MAX_MESSAGE_BYTES ends the session. */
const MAX_LINE = 1_000;
const MAX_MESSAGE_BYTES = 1_048_576;

export class SmtpTestServer {
  readonly messages: ReceivedMail[] = [];
  reject_next = 0;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  constructor() {
    this.#server = net.createServer((socket) => this.#session(socket));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #session(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    const reply = (line: string): void => {
      socket.write(`${line}\r\n`);
    };
    let buffer = '';
    let from: string | null = null;
    let to: string[] = [];
    let data: string[] | null = null;
    let data_bytes = 0;
    reply('220 localhost ESMTP ispbills-test');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data !== null) {
          if (line === '.') {
            const raw = data.join('\r\n');
            this.messages.push({ from: from ?? '', to, data: raw, ...parse(raw) });
            data = null;
            from = null;
            to = [];
            reply('250 2.0.0 queued');
          } else {
            // Dot-stuffing: a line starting with '.' had one added by the client.
            data.push(line.startsWith('.') ? line.slice(1) : line);
            data_bytes += line.length + 2;
            if (data_bytes > MAX_MESSAGE_BYTES) {
              reply('552 message too large');
              socket.end();
            }
          }
          continue;
        }
        if (line.length > MAX_LINE) {
          reply('500 line too long');
          socket.end();
          return;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') {
          reply('250-localhost');
          reply('250-8BITMIME');
          reply('250-SMTPUTF8');
          reply(`250 SIZE ${MAX_MESSAGE_BYTES}`);
        } else if (verb === 'HELO') reply('250 localhost');
        else if (verb === 'MAIL') {
          from = /<([^>]*)>/.exec(line)?.[1] ?? '';
          to = [];
          reply('250 2.1.0 ok');
        } else if (verb === 'RCPT') {
          if (from === null) reply('503 5.5.1 MAIL first');
          else if (this.reject_next > 0) {
            this.reject_next -= 1;
            reply('550 5.1.1 no such mailbox');
          } else {
            to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
            reply('250 2.1.5 ok');
          }
        } else if (verb === 'DATA') {
          if (to.length === 0) reply('503 5.5.1 RCPT first');
          else {
            data = [];
            data_bytes = 0;
            reply('354 end with <CRLF>.<CRLF>');
          }
        } else if (verb === 'RSET') {
          from = null;
          to = [];
          reply('250 ok');
        } else if (verb === 'NOOP') reply('250 ok');
        else if (verb === 'QUIT') {
          reply('221 bye');
          socket.end();
        } else reply('502 5.5.2 command not implemented');
      }
    });
  }
}

/** Headers (unfolded, MIME encoded-words decoded) and the text body (quoted-printable or base64 decoded). */
function parse(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : encoding === 'quoted-printable'
        ? decodeQuotedPrintable(body)
        : body;
  return { headers, text };
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const soft = text.replace(/=\r\n/g, '');
  for (let i = 0; i < soft.length; i += 1) {
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(soft[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeWords(value: string): string {
  return value.replace(/=\?utf-8\?([BQ])\?([^?]*)\?=\s*/gi, (_, kind: string, encoded: string) =>
    kind.toUpperCase() === 'B' ? Buffer.from(encoded, 'base64').toString('utf8') : decodeQuotedPrintable(encoded.replace(/_/g, ' ')),
  );
}
