import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import * as zlib from 'node:zlib';

/**
 * The few parts of the ZIP format (APPNOTE 6.3) the auditor's package needs, written here so the archive is
 * exactly what we say: deflated entries streamed from files (sizes and CRC-32 in a data descriptor after
 * each), fixed timestamps, no extra fields, and a seal — the archive's last bytes, its comment, are the
 * SHA-256 of every byte before them, so a change anywhere in the file (an entry, a header, a date) is found.
 * No ZIP64: an entry or the archive reaching 4 GiB is refused.
 */
const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const LIMIT = 0xffff_ffff;
const DEFLATE = 8;
const STORE = 0;
/** Bit 3: sizes and CRC follow the data; bit 11: names are UTF-8. */
const FLAGS = 0x0008 | 0x0800;

export const SEAL_PREFIX = 'ispbills-package sha256:';
const SEAL_LENGTH = SEAL_PREFIX.length + 64;

type Entry = { name: Buffer; crc: number; compressed: number; size: number; offset: number };

function dosDateTime(date: Date): { time: number; day: number } {
  const year = Math.max(1980, date.getUTCFullYear());
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2),
    day: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

export class SealedZipWriter {
  readonly #out: Writable;
  readonly #hash: Hash = createHash('sha256');
  readonly #entries: Entry[] = [];
  readonly #stamp: { time: number; day: number };
  #offset = 0;

  /** Every entry carries `date` (UTC) as its modification time, so the same contents make the same archive. */
  constructor(out: Writable, date: Date) {
    this.#out = out;
    this.#stamp = dosDateTime(date);
  }

  async #write(bytes: Buffer): Promise<void> {
    this.#hash.update(bytes);
    this.#offset += bytes.length;
    if (this.#offset > LIMIT) throw new Error('the package would pass 4 GiB, which needs ZIP64; make it for a shorter period');
    if (!this.#out.write(bytes)) await once(this.#out, 'drain');
  }

  /** Adds a file from disk, deflated as it is read. */
  async addFile(name: string, path: string): Promise<void> {
    const deflate = zlib.createDeflateRaw({ level: 6 });
    let crc = 0;
    let size = 0;
    const source = createReadStream(path);
    source.on('data', (chunk) => {
      const bytes = chunk as Buffer;
      crc = zlib.crc32(bytes, crc);
      size += bytes.length;
    });
    source.pipe(deflate);
    await this.#entry(name, deflate, () => ({ crc, size }));
  }

  /** Adds a file held in memory (the manifest, the checksums, the read-me). */
  async addBuffer(name: string, bytes: Buffer): Promise<void> {
    const deflate = zlib.createDeflateRaw({ level: 6 });
    const crc = zlib.crc32(bytes);
    deflate.end(bytes);
    await this.#entry(name, deflate, () => ({ crc, size: bytes.length }));
  }

  async #entry(name: string, compressed: NodeJS.ReadableStream, facts: () => { crc: number; size: number }): Promise<void> {
    const encoded = Buffer.from(name, 'utf8');
    const offset = this.#offset;
    const header = Buffer.alloc(30);
    header.writeUInt32LE(LOCAL_HEADER, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(FLAGS, 6);
    header.writeUInt16LE(DEFLATE, 8);
    header.writeUInt16LE(this.#stamp.time, 10);
    header.writeUInt16LE(this.#stamp.day, 12);
    // CRC-32 and sizes are zero here and follow the data (flag bit 3).
    header.writeUInt16LE(encoded.length, 26);
    await this.#write(Buffer.concat([header, encoded]));
    let written = 0;
    for await (const chunk of compressed) {
      const bytes = chunk as Buffer;
      written += bytes.length;
      await this.#write(bytes);
    }
    const { crc, size } = facts();
    if (size > LIMIT || written > LIMIT) throw new Error(`${name} reaches 4 GiB, which needs ZIP64`);
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(DATA_DESCRIPTOR, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    descriptor.writeUInt32LE(written, 8);
    descriptor.writeUInt32LE(size, 12);
    await this.#write(descriptor);
    this.#entries.push({ name: encoded, crc: crc >>> 0, compressed: written, size, offset });
  }

  /** Writes the central directory and the end record, whose comment is the seal; returns the seal's digest. */
  async finish(): Promise<string> {
    const start = this.#offset;
    for (const entry of this.#entries) {
      const header = Buffer.alloc(46);
      header.writeUInt32LE(CENTRAL_HEADER, 0);
      header.writeUInt16LE(20, 4);
      header.writeUInt16LE(20, 6);
      header.writeUInt16LE(FLAGS, 8);
      header.writeUInt16LE(DEFLATE, 10);
      header.writeUInt16LE(this.#stamp.time, 12);
      header.writeUInt16LE(this.#stamp.day, 14);
      header.writeUInt32LE(entry.crc, 16);
      header.writeUInt32LE(entry.compressed, 20);
      header.writeUInt32LE(entry.size, 24);
      header.writeUInt16LE(entry.name.length, 28);
      header.writeUInt32LE(entry.offset, 42);
      await this.#write(Buffer.concat([header, entry.name]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
    end.writeUInt16LE(this.#entries.length, 8);
    end.writeUInt16LE(this.#entries.length, 10);
    end.writeUInt32LE(this.#offset - start, 12);
    end.writeUInt32LE(start, 16);
    end.writeUInt16LE(SEAL_LENGTH, 20);
    await this.#write(end);
    const digest = this.#hash.digest('hex');
    const seal = Buffer.from(`${SEAL_PREFIX}${digest}`, 'latin1');
    if (!this.#out.write(seal)) await once(this.#out, 'drain');
    this.#out.end();
    if (!this.#out.writableFinished) await once(this.#out, 'finish');
    return digest;
  }
}

// --- reading --------------------------------------------------------------------------------------------------------

export class ZipBroken extends Error {
  readonly code = 'PACKAGE_BROKEN';
  constructor(message: string) {
    super(message);
    this.name = 'ZipBroken';
  }
}

export type SealedZip = Readonly<{ seal: string; entries: ReadonlyMap<string, Buffer> }>;

/**
 * Reads a sealed archive: the seal first (the SHA-256 of everything before the comment must be the comment),
 * then every entry through the central directory, each inflated and checked against its CRC-32 and sizes, the
 * local header agreeing with the central one. Anything else — another compression, an encrypted entry, a
 * duplicate name, bytes between entries — is refused: the package is exactly what this module writes.
 */
export function readSealedZip(bytes: Buffer): SealedZip {
  const endAt = bytes.length - SEAL_LENGTH - 22;
  if (endAt < 0 || bytes.readUInt32LE(endAt) !== END_OF_CENTRAL_DIRECTORY) throw new ZipBroken('no sealed end record: this is not an auditor package, or its end was changed');
  if (bytes.readUInt16LE(endAt + 20) !== SEAL_LENGTH) throw new ZipBroken('the end record does not announce a seal');
  const comment = bytes.subarray(endAt + 22).toString('latin1');
  if (!comment.startsWith(SEAL_PREFIX) || !/^[0-9a-f]{64}$/.test(comment.slice(SEAL_PREFIX.length))) throw new ZipBroken('the seal is not a SHA-256 digest');
  const seal = comment.slice(SEAL_PREFIX.length);
  const actual = createHash('sha256').update(bytes.subarray(0, endAt + 22)).digest('hex');
  if (actual !== seal) throw new ZipBroken(`the archive's seal does not match its bytes (sealed ${seal.slice(0, 16)}…, now ${actual.slice(0, 16)}…): a byte was changed`);

  const count = bytes.readUInt16LE(endAt + 10);
  if (bytes.readUInt16LE(endAt + 8) !== count || bytes.readUInt16LE(endAt + 4) !== 0 || bytes.readUInt16LE(endAt + 6) !== 0) throw new ZipBroken('a multi-disk archive');
  const directorySize = bytes.readUInt32LE(endAt + 12);
  const directoryAt = bytes.readUInt32LE(endAt + 16);
  if (directoryAt + directorySize !== endAt) throw new ZipBroken('the central directory is not where the end record says');
  const entries = new Map<string, Buffer>();
  let at = directoryAt;
  let expectedOffset = 0;
  for (let index = 0; index < count; index += 1) {
    if (at + 46 > endAt || bytes.readUInt32LE(at) !== CENTRAL_HEADER) throw new ZipBroken(`central directory entry ${index + 1} is damaged`);
    const flags = bytes.readUInt16LE(at + 8);
    const method = bytes.readUInt16LE(at + 10);
    const crc = bytes.readUInt32LE(at + 16);
    const compressed = bytes.readUInt32LE(at + 20);
    const size = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extra = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    const offset = bytes.readUInt32LE(at + 42);
    const name = bytes.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    if ((flags & 0x0001) !== 0) throw new ZipBroken(`${name} is encrypted`);
    if (method !== DEFLATE && method !== STORE) throw new ZipBroken(`${name} uses compression method ${method}`);
    if (offset !== expectedOffset) throw new ZipBroken(`${name} does not start where the previous entry ends`);
    if (entries.has(name)) throw new ZipBroken(`${name} is in the archive twice`);
    // The local header must say what the central one says.
    if (bytes.readUInt32LE(offset) !== LOCAL_HEADER) throw new ZipBroken(`${name}'s local header is damaged`);
    const localNameLength = bytes.readUInt16LE(offset + 26);
    const localExtra = bytes.readUInt16LE(offset + 28);
    if (bytes.readUInt16LE(offset + 8) !== method || localNameLength !== nameLength || bytes.subarray(offset + 30, offset + 30 + nameLength).toString('utf8') !== name) {
      throw new ZipBroken(`${name}'s local header disagrees with the central directory`);
    }
    const dataAt = offset + 30 + localNameLength + localExtra;
    const data = bytes.subarray(dataAt, dataAt + compressed);
    let content: Buffer;
    try {
      content = method === DEFLATE ? zlib.inflateRawSync(data) : Buffer.from(data);
    } catch (error) {
      throw new ZipBroken(`${name} does not inflate: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (content.length !== size || (zlib.crc32(content) >>> 0) !== crc) throw new ZipBroken(`${name} does not match its size and CRC-32`);
    let next = dataAt + compressed;
    if ((flags & 0x0008) !== 0) {
      if (bytes.readUInt32LE(next) !== DATA_DESCRIPTOR || bytes.readUInt32LE(next + 4) !== crc || bytes.readUInt32LE(next + 8) !== compressed || bytes.readUInt32LE(next + 12) !== size) {
        throw new ZipBroken(`${name}'s data descriptor disagrees with the central directory`);
      }
      next += 16;
    }
    entries.set(name, content);
    expectedOffset = next;
    at += 46 + nameLength + extra + commentLength;
  }
  if (expectedOffset !== directoryAt || at !== endAt) throw new ZipBroken('there are bytes in the archive that belong to no entry');
  return { seal, entries };
}
