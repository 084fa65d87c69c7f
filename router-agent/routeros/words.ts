/**
 * The RouterOS API's framing (MikroTik API manual, "Protocol"): a sentence is a list of words ended by a
 * zero-length word; a word is its length, encoded in 1–5 bytes, then its bytes. Pure functions and a
 * streaming parser, so the client and the test server share one implementation of the bytes on the wire.
 */

/** A single word larger than this is refused: no reply the agent asks for comes near it. */
export const MAX_WORD_BYTES = 16 * 1024 * 1024;
/** A sentence with more words than this is refused (a print item has a few dozen properties). */
export const MAX_SENTENCE_WORDS = 10_000;

export class RouterOsProtocolError extends Error {
  readonly code = 'ROUTEROS_PROTOCOL_ERROR';
  constructor(message: string) {
    super(message);
    this.name = 'RouterOsProtocolError';
  }
}

/** The length prefix of a word of `length` bytes (big-endian, the high bits saying how many bytes follow). */
export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) throw new RangeError(`word length ${length} cannot be encoded`);
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x4000) return Buffer.from([(length >>> 8) | 0x80, length & 0xff]);
  if (length < 0x200000) return Buffer.from([(length >>> 16) | 0xc0, (length >>> 8) & 0xff, length & 0xff]);
  if (length < 0x10000000) return Buffer.from([(length >>> 24) | 0xe0, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
  return Buffer.from([0xf0, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
}

export type DecodedLength = Readonly<{ length: number; bytes: number }>;

/**
 * Reads a length prefix at `offset`: the length and how many bytes the prefix took, or null when the buffer
 * ends inside the prefix (a partial TCP read: wait for more). A first byte of 0xF8 or above is a control byte
 * the protocol reserves; nothing legitimate sends one, so it is an error.
 */
export function decodeLength(buffer: Buffer, offset = 0): DecodedLength | null {
  if (offset >= buffer.length) return null;
  const first = buffer[offset]!;
  const need = first < 0x80 ? 1 : first < 0xc0 ? 2 : first < 0xe0 ? 3 : first < 0xf0 ? 4 : first < 0xf8 ? 5 : -1;
  if (need === -1) throw new RouterOsProtocolError(`control byte 0x${first.toString(16)} where a word length was expected`);
  if (offset + need > buffer.length) return null;
  switch (need) {
    case 1:
      return { length: first, bytes: 1 };
    case 2:
      return { length: ((first & 0x3f) << 8) | buffer[offset + 1]!, bytes: 2 };
    case 3:
      return { length: ((first & 0x1f) << 16) | (buffer[offset + 1]! << 8) | buffer[offset + 2]!, bytes: 3 };
    case 4:
      return { length: (((first & 0x0f) << 24) | (buffer[offset + 1]! << 16) | (buffer[offset + 2]! << 8) | buffer[offset + 3]!) >>> 0, bytes: 4 };
    default:
      return { length: buffer.readUInt32BE(offset + 1), bytes: 5 };
  }
}

/** One sentence on the wire: each word length-prefixed, then the empty word that ends it. */
export function encodeSentence(words: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const word of words) {
    const bytes = Buffer.from(word, 'utf8');
    parts.push(encodeLength(bytes.length), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * Turns a byte stream into sentences, whatever the TCP reads look like: a read may end inside a length prefix
 * or a word, or carry several sentences at once. Empty sentences (a bare zero byte) are skipped, as RouterOS
 * does. Memory is bounded by MAX_WORD_BYTES per word and MAX_SENTENCE_WORDS per sentence.
 */
export class SentenceParser {
  #pending: Buffer = Buffer.alloc(0);
  #words: string[] = [];

  /** Feeds one read; returns every sentence it completed, in order. */
  push(chunk: Buffer): string[][] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const sentences: string[][] = [];
    let offset = 0;
    for (;;) {
      const prefix = decodeLength(this.#pending, offset);
      if (prefix === null) break;
      if (prefix.length > MAX_WORD_BYTES) throw new RouterOsProtocolError(`a word of ${prefix.length} bytes is over the limit of ${MAX_WORD_BYTES}`);
      const end = offset + prefix.bytes + prefix.length;
      if (end > this.#pending.length) break;
      if (prefix.length === 0) {
        if (this.#words.length > 0) sentences.push(this.#words);
        this.#words = [];
      } else {
        if (this.#words.length >= MAX_SENTENCE_WORDS) throw new RouterOsProtocolError(`a sentence of more than ${MAX_SENTENCE_WORDS} words`);
        this.#words.push(this.#pending.toString('utf8', offset + prefix.bytes, end));
      }
      offset = end;
    }
    this.#pending = offset === this.#pending.length ? Buffer.alloc(0) : this.#pending.subarray(offset);
    return sentences;
  }

  /** Bytes held for an unfinished word or prefix (for tests and limits). */
  get buffered(): number {
    return this.#pending.length;
  }
}

/** `=name=value` → [name, value]; the value may itself contain '=' and may be empty. */
export function parseAttributeWord(word: string): readonly [string, string] | null {
  if (!word.startsWith('=')) return null;
  const split = word.indexOf('=', 1);
  if (split === -1) return [word.slice(1), ''];
  return [word.slice(1, split), word.slice(split + 1)];
}

export const attributeWord = (name: string, value: string): string => `=${name}=${value}`;
