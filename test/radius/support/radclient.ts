import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * The real `radclient` (Debian freeradius-utils) sending one packet and reporting what came back, as a router
 * would see it. Attributes are written as radclient reads them: `Name = value`, strings in double quotes.
 */
export type RadclientReply = Readonly<{
  code: string | null;
  attributes: ReadonlyMap<string, string[]>;
  output: string;
}>;

export type Packet = Readonly<Record<string, string | number>>;

/** Attributes whose values radclient takes bare: dictionary value names and addresses. */
const BARE = new Set(['Acct-Status-Type', 'NAS-Port-Type', 'Service-Type', 'Framed-Protocol', 'Acct-Authentic', 'Acct-Terminate-Cause', 'NAS-IP-Address', 'Framed-IP-Address']);

function render(packet: Packet): string {
  return Object.entries(packet)
    .map(([name, value]) => {
      if (typeof value === 'number' || /^0x[0-9a-f]*$/i.test(value) || BARE.has(name)) return `${name} = ${value}`;
      return `${name} = ${JSON.stringify(value)}`;
    })
    .join('\n');
}

export async function radclient(type: 'auth' | 'acct' | 'status', port: number, secret: string, packet: Packet): Promise<RadclientReply> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'radclient-'));
  const file = path.join(directory, 'packet');
  await writeFile(file, `${render(packet)}\n`);
  try {
    const output = await new Promise<string>((resolve) => {
      execFile('radclient', ['-x', '-r', '1', '-t', '2', '-f', file, `127.0.0.1:${port}`, type, secret], { timeout: 10_000 }, (_error, stdout, stderr) =>
        resolve(`${stdout}${stderr}`),
      );
    });
    return parse(output);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function parse(output: string): RadclientReply {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Received '));
  if (start === -1) return { code: null, attributes: new Map(), output };
  const code = /^Received (\S+)/.exec(lines[start]!)![1]!;
  const attributes = new Map<string, string[]>();
  for (const line of lines.slice(start + 1)) {
    const match = /^\t(\S+) = (.*)$/.exec(line);
    if (match === null) break;
    // The signature is checked on the captured bytes (capture-relay.ts), not here.
    if (match[1] === 'Message-Authenticator') continue;
    const raw = match[2]!;
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        value = raw.slice(1, -1);
      }
    }
    attributes.set(match[1]!, [...(attributes.get(match[1]!) ?? []), value]);
  }
  return { code, attributes, output };
}
