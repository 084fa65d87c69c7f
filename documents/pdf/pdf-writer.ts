import { once } from 'node:events';
import { createRequire } from 'node:module';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Content, DynamicContent, Margins, PageOrientation, StyleDictionary, Style } from 'pdfmake/interfaces.js';
import { collectGarbage } from './collect-garbage.js';
import { documentFontFiles, FONT_FAMILY } from './fonts.js';

/**
 * Writes PDFs with pdfmake's layout engine into one pdfkit document that streams out as it grows. A document
 * is one or more parts (an invoice; every invoice of a bill run): each part is laid out and rendered on its
 * own, its pages flushed to the output before the next part is laid out, so a PDF of 10,000 invoices holds one
 * invoice's layout in memory, not 10,000. pdfmake's own `createPdf` lays out the whole document first; its
 * layout builder and renderer (pdfmake/js, 0.3) are used here directly for that reason.
 *
 * Text in Bengali is wrapped in a marked-content span carrying the text itself (/ActualText): shaped Bengali
 * glyphs are stored in visual order (a pre-base vowel sign before its consonant), so without it a text
 * extractor (pdftotext, copy and paste, search) reads them scrambled.
 */
const require = createRequire(import.meta.url);

type PdfKitDocument = Readable & {
  text(text: string, x?: number, y?: number, options?: object): PdfKitDocument;
  addContent(data: string): PdfKitDocument;
  end(): void;
  _pdfMakePages?: unknown;
  /** pdfmake's fonts by family and style: pdfkit font objects, each with its word-shaping cache. */
  fontCache?: Record<string, Record<string, { layoutCache?: Record<string, unknown> }>>;
};
type PdfMakeDocumentClass = new (
  fonts: Record<string, object>,
  images: Record<string, string>,
  patterns: Record<string, object>,
  attachments: Record<string, object>,
  options: object,
  virtualfs: null,
  localAccessPolicy: ((path: string) => boolean) | undefined,
) => PdfKitDocument;
type LayoutBuilderClass = new (
  pageSize: object,
  pageMargins: object,
  svgMeasure: object,
) => {
  registerTableLayouts(layouts: object): void;
  layoutDocument(
    content: Content,
    document: PdfKitDocument,
    styles: StyleDictionary,
    defaultStyle: Style,
    background: null,
    header: DynamicContent | null,
    footer: DynamicContent | null,
    watermark: null,
    pageBreakBefore: null,
  ): unknown[];
};
type RendererClass = new (document: PdfKitDocument, progress: null) => { renderPages(pages: unknown[]): void };

const PdfMakeDocument = (require('pdfmake/js/PDFDocument.js') as { default: PdfMakeDocumentClass }).default;
const LayoutBuilder = (require('pdfmake/js/LayoutBuilder.js') as { default: LayoutBuilderClass }).default;
const Renderer = (require('pdfmake/js/Renderer.js') as { default: RendererClass }).default;
const SVGMeasure = (require('pdfmake/js/SVGMeasure.js') as { default: new () => object }).default;
const { tableLayouts } = require('pdfmake/js/tableLayouts.js') as { tableLayouts: object };
const { normalizePageSize, normalizePageMargin } = require('pdfmake/js/PageSize.js') as {
  normalizePageSize: (size: string, orientation: PageOrientation) => { width: number; height: number; orientation: PageOrientation };
  normalizePageMargin: (margin: Margins) => object;
};

/** One laid-out unit: an invoice, a statement. Page numbers in its header and footer count its own pages. */
export type PdfPart = Readonly<{
  content: Content;
  header?: DynamicContent;
  footer?: DynamicContent;
  pageMargins?: Margins;
  pageOrientation?: PageOrientation;
}>;

export type PdfMeta = Readonly<{
  title: string;
  author: string;
  subject?: string;
  /** Written into the document's information; from the caller's clock. */
  created_at: Date;
  /** Images the parts name (`image: 'logo'`), as data URLs; each is embedded once however often it is drawn. */
  images?: Readonly<Record<string, string>>;
  styles?: StyleDictionary;
  defaultStyle?: Style;
}>;

export type PdfSummary = Readonly<{ parts: number; pages: number; bytes: number }>;

/** Pause the layout while this much PDF is waiting to be written: the output sets the pace. */
const BUFFERED_BYTES_MAX = 4 * 1024 * 1024;
const BENGALI = /[\u0980-\u09FF]/;
/** A long document collects garbage this often (see collect-garbage.ts): a few tens of milliseconds each time. */
const COLLECT_EVERY_PARTS = 250;
/** Words whose shaping pdfkit keeps per font before the cache starts afresh (a few hundred invoices' worth). */
const LAYOUT_CACHE_WORDS_MAX = 5_000;

export class PdfWriter {
  readonly #document: PdfKitDocument;
  readonly #meta: PdfMeta;
  readonly #out: Writable;
  readonly #finished: Promise<void>;
  #parts = 0;
  #pages = 0;
  #bytes = 0;
  #closed = false;

  constructor(out: Writable, meta: PdfMeta) {
    this.#meta = meta;
    this.#out = out;
    const files = documentFontFiles();
    const pageSize = normalizePageSize('A4', 'portrait');
    this.#document = new PdfMakeDocument(
      { [FONT_FAMILY]: files },
      { ...(meta.images ?? {}) },
      {},
      {},
      {
        size: [pageSize.width, pageSize.height],
        pdfVersion: '1.7',
        compress: true,
        autoFirstPage: false,
        bufferPages: false,
        fontLayoutCache: true,
        lang: 'en',
        info: {
          Title: meta.title,
          Author: meta.author,
          ...(meta.subject === undefined ? {} : { Subject: meta.subject }),
          Creator: 'IspBills',
          Producer: 'IspBills (pdfmake, pdfkit)',
          CreationDate: meta.created_at,
        },
        font: null,
      },
      null,
      // The font files are the only files a document may read; images are data URLs.
      (path) => path === files.normal || path === files.bold,
    );
    withActualText(this.#document);
    this.#document.on('data', (chunk: Buffer) => {
      this.#bytes += chunk.length;
    });
    this.#finished = new Promise<void>((resolve, reject) => {
      out.once('finish', resolve);
      out.once('error', reject);
      this.#document.once('error', reject);
    });
    this.#document.pipe(out);
  }

  /** Lays out and renders one part, then lets the output catch up before the next. */
  async add(part: PdfPart): Promise<void> {
    if (this.#closed) throw new Error('bug: a part added to a closed PDF');
    const pageSize = normalizePageSize('A4', part.pageOrientation ?? 'portrait');
    const builder = new LayoutBuilder(pageSize, normalizePageMargin(part.pageMargins ?? [40, 40, 40, 50]), new SVGMeasure());
    builder.registerTableLayouts(tableLayouts);
    const pages = builder.layoutDocument(
      part.content,
      this.#document,
      this.#meta.styles ?? {},
      { font: FONT_FAMILY, fontSize: 9, ...(this.#meta.defaultStyle ?? {}) },
      null,
      part.header ?? null,
      part.footer ?? null,
      null,
      null,
    );
    new Renderer(this.#document, null).renderPages(pages);
    // The renderer keeps the last part's layout on the document; nothing needs it once rendered. pdfkit caches
    // the shaping of every word it has set, per font, for the document's life: the labels every invoice repeats
    // are worth keeping, but over 10,000 invoices the names, ids and amounts make it a leak, so it is bounded.
    this.#document._pdfMakePages = undefined;
    for (const types of Object.values(this.#document.fontCache ?? {})) {
      for (const font of Object.values(types)) {
        if (font.layoutCache !== undefined && Object.keys(font.layoutCache).length > LAYOUT_CACHE_WORDS_MAX) font.layoutCache = Object.create(null) as Record<string, unknown>;
      }
    }
    this.#parts += 1;
    this.#pages += pages.length;
    if (this.#parts % COLLECT_EVERY_PARTS === 0) collectGarbage();
    await this.#drained();
  }

  async #drained(): Promise<void> {
    // Give the pipe a turn; then, while the output is behind, wait for it.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#document.readableLength > BUFFERED_BYTES_MAX) {
      if (this.#out.writableNeedDrain) await once(this.#out, 'drain');
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Ends the document (fonts, cross-reference table) and waits until the output has all of it. */
  async close(): Promise<PdfSummary> {
    if (this.#parts === 0) throw new Error('bug: a PDF without any part');
    this.#closed = true;
    this.#document.end();
    await this.#finished;
    return { parts: this.#parts, pages: this.#pages, bytes: this.#bytes };
  }

  /** Stops writing after a failure: the output is destroyed, so a reader sees a cut-short file, never a whole one. */
  abort(error: Error): void {
    this.#closed = true;
    this.#document.unpipe(this.#out);
    this.#out.destroy(error);
  }
}

/** Writes parts (from a list or a stream of them) as one PDF to `out`. */
export async function writePdf(out: Writable, meta: PdfMeta, parts: Iterable<PdfPart> | AsyncIterable<PdfPart>, on_part?: (summary: Readonly<{ parts: number; pages: number }>) => void): Promise<PdfSummary> {
  const writer = new PdfWriter(out, meta);
  let parts_written = 0;
  try {
    for await (const part of parts) {
      await writer.add(part);
      parts_written += 1;
      on_part?.({ parts: parts_written, pages: 0 });
    }
    return await writer.close();
  } catch (error) {
    writer.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/** One PDF in memory: for single documents (an invoice, a statement), never for bulk. */
export async function pdfBuffer(meta: PdfMeta, parts: Iterable<PdfPart> | AsyncIterable<PdfPart>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  await writePdf(out, meta, parts);
  return Buffer.concat(chunks);
}

/**
 * Bengali runs get /ActualText (their logical text) around their glyphs. The span is opened inside the text
 * object (after BT, closed before ET), where pdfkit's flipped coordinate system is in force, so the extractor
 * places the text where the glyphs are.
 */
function withActualText(document: PdfKitDocument): void {
  const text = document.text.bind(document);
  const addContent = document.addContent.bind(document);
  let pending: string | null = null;
  let open = false;
  document.addContent = (data: string): PdfKitDocument => {
    if (data === 'BT' && pending !== null) {
      addContent('BT');
      addContent(`/Span <</ActualText ${pdfTextString(pending)}>> BDC`);
      open = true;
      return document;
    }
    if (data === 'ET' && open) {
      addContent('EMC');
      open = false;
    }
    return addContent(data);
  };
  document.text = (value: string, x?: number, y?: number, options?: object): PdfKitDocument => {
    if (!BENGALI.test(value)) return text(value, x, y, options);
    pending = value;
    try {
      return text(value, x, y, options);
    } finally {
      pending = null;
    }
  };
}

/** A PDF text string in UTF-16BE with its byte-order mark, written as hex (nothing in it needs escaping). */
function pdfTextString(text: string): string {
  const bytes = Buffer.from(text, 'utf16le');
  bytes.swap16();
  return `<FEFF${bytes.toString('hex').toUpperCase()}>`;
}
