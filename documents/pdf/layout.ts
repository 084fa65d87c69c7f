import type { Content, ContentStack, ContentTable, DynamicContent, StyleDictionary, TableCell } from 'pdfmake/interfaces.js';
import type { IspProfileView } from '../../projections/queries/isp-profile.js';
import { documentLocale, formatDay, formatInstant, MoneyFormat } from '../money-format.js';
import type { PdfMeta } from './pdf-writer.js';

/**
 * What every document shares: the ISP's letterhead (logo, name, address, contacts), the styles, the footer
 * with the page count, amount cells, and the way a document is written for the ISP (its currency, locale and
 * time zone).
 */
export type DocumentContext = Readonly<{
  isp: IspProfileView;
  locale: string;
  money: MoneyFormat;
  day: (day: string) => string;
  instant: (instant: string) => string;
  /** When the document was made (the caller's clock). */
  generated_at: Date;
}>;

export function documentContext(isp: IspProfileView, generated_at: Date): DocumentContext {
  const locale = documentLocale(isp.locale);
  return {
    isp,
    locale,
    money: new MoneyFormat(isp.currency, locale),
    day: (day) => formatDay(day, locale),
    instant: (instant) => formatInstant(instant, locale, isp.time_zone),
    generated_at,
  };
}

export const COLORS = { ink: '#1b1f24', muted: '#5b6570', rule: '#c9d1d9', band: '#eef2f6', accent: '#0b5cad' } as const;

export const STYLES: StyleDictionary = {
  isp: { fontSize: 14, bold: true, color: COLORS.ink },
  title: { fontSize: 16, bold: true, color: COLORS.accent, alignment: 'right' },
  heading: { fontSize: 10.5, bold: true, margin: [0, 12, 0, 4], color: COLORS.ink },
  muted: { color: COLORS.muted },
  label: { color: COLORS.muted, fontSize: 8 },
  th: { bold: true, fillColor: COLORS.band, fontSize: 8.5 },
  total: { bold: true },
  due: { fontSize: 13, bold: true, color: COLORS.accent },
};

/** The document's information and the images it draws (the logo), for the PDF writer. */
export function metaFor(context: DocumentContext, title: string, subject?: string): PdfMeta {
  const logo = context.isp.logo;
  return {
    title,
    author: context.isp.name,
    ...(subject === undefined ? {} : { subject }),
    created_at: context.generated_at,
    images: logo === null ? {} : { logo: `data:${logo.media_type};base64,${logo.data_base64}` },
    styles: STYLES,
    defaultStyle: { color: COLORS.ink },
  };
}

/** The ISP's block (logo, name, address, contacts) beside the document's title and its key facts. */
export function letterhead(context: DocumentContext, title: string, facts: readonly (readonly [label: string, value: string])[]): Content {
  const isp = context.isp;
  const contacts = [isp.phone, isp.email].filter((value): value is string => value !== null && value !== '');
  const ispBlock: ContentStack = {
    stack: [{ text: isp.name, style: 'isp' }, ...(isp.address === '' ? [] : [{ text: isp.address, style: 'muted' }]), ...contacts.map((text) => ({ text, style: 'muted' }))],
  };
  const left: Content =
    isp.logo === null
      ? ({ ...ispBlock, width: '*' } as Content)
      : ({ columns: [{ image: 'logo', fit: [64, 64], width: 70 }, { ...ispBlock, width: '*' }], columnGap: 8, width: '*' } as Content);
  return {
    stack: [
      {
        columns: [
          left,
          {
            width: 240,
            stack: [
              { text: title, style: 'title', ...(title.length > 14 ? { fontSize: 14 } : {}) },
              {
                table: { widths: ['*', 'auto'], body: facts.map(([label, value]) => [{ text: label, style: 'label', alignment: 'right' }, { text: value, alignment: 'right' }]) },
                layout: 'noBorders',
                margin: [0, 4, 0, 0],
              },
            ],
          },
        ],
      },
      rule(6),
    ],
  };
}

export const rule = (space = 8): Content => ({
  canvas: [{ type: 'line', x1: 0, y1: 0, x2: 515, y2: 0, lineWidth: 0.6, lineColor: COLORS.rule }],
  margin: [0, space, 0, space],
});

/** "Demo Net Ltd · Invoice … · page 2 of 3", and when the document was made. */
export function footer(context: DocumentContext, what: string): DynamicContent {
  return (currentPage, pageCount) => ({
    columns: [
      { text: `${context.isp.name} · ${what}`, style: 'label' },
      { text: `Made ${context.instant(context.generated_at.toISOString())} · page ${currentPage} of ${pageCount}`, style: 'label', alignment: 'right' },
    ],
    margin: [40, 16, 40, 0],
  });
}

/** A right-aligned amount, with the currency's symbol unless `plain`. */
export function amountCell(context: DocumentContext, amount: string, options: Readonly<{ plain?: boolean; bold?: boolean; blankZero?: boolean }> = {}): TableCell {
  if (options.blankZero === true && /^-?0(\.0+)?$/.test(amount)) return { text: '' };
  return { text: options.plain === true ? context.money.plain(amount) : context.money.format(amount), alignment: 'right', ...(options.bold === true ? { bold: true } : {}) };
}

/** Column headings, amounts right-aligned. */
export const headerRow = (cells: readonly (string | readonly [string, 'right'])[]): TableCell[] =>
  cells.map((cell) => (typeof cell === 'string' ? { text: cell, style: 'th' } : { text: cell[0], style: 'th', alignment: 'right' }));

/** A table of rows with a heading row repeated on every page and light rules. */
export function dataTable(widths: readonly (string | number)[], header: TableCell[], rows: readonly TableCell[][], emptyText = 'none'): Content {
  const body = rows.length === 0 ? [header, [{ text: emptyText, style: 'muted', colSpan: header.length }, ...header.slice(1).map(() => ({}))]] : [header, ...rows];
  return { table: { headerRows: 1, widths: [...widths], body, dontBreakRows: true }, layout: 'lightHorizontalLines' };
}

/** Label and value pairs in two columns. */
export function facts(pairs: readonly (readonly [string, string])[]): ContentTable {
  return {
    table: { widths: ['auto', '*'], body: pairs.map(([label, value]) => [{ text: label, style: 'label' }, { text: value }]) },
    layout: 'noBorders',
  };
}

/** Amounts summed at the foot of a document: label on the left, amount on the right, under a rule. */
export function totals(context: DocumentContext, lines: readonly (readonly [label: string, amount: string, style?: 'total' | 'due'])[]): Content {
  return {
    columns: [
      { width: '*', text: '' },
      {
        width: 260,
        table: {
          widths: ['*', 'auto'],
          body: lines.map(([label, amount, style]) => [
            { text: label, ...(style === undefined ? {} : { style }) },
            { text: context.money.format(amount), alignment: 'right', ...(style === undefined ? {} : { style }) },
          ]),
        },
        layout: 'lightHorizontalLines',
      },
    ],
    margin: [0, 6, 0, 0],
  };
}

/** "10 Mbps / 2 Mbps" from the package's rate in kbit/s. */
export function rateText(down_kbps: number | null, up_kbps: number | null): string | null {
  if (down_kbps === null || up_kbps === null) return null;
  const rate = (kbps: number): string => (kbps % 1000 === 0 ? `${kbps / 1000} Mbps` : `${kbps} kbps`);
  return `${rate(down_kbps)} down / ${rate(up_kbps)} up`;
}

/** Method names as people say them. */
export const METHOD_NAMES: Readonly<Record<string, string>> = { cash: 'Cash', online: 'Online', card: 'Recharge card', reseller_wallet: 'Reseller wallet', credit: 'Credit applied' };
export const CONNECTION_NAMES: Readonly<Record<string, string>> = { pppoe: 'PPPoE', hotspot: 'Hotspot', static_ip: 'Static IP' };
