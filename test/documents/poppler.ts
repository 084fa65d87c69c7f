import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The independent readers the documents are checked with: poppler's pdftotext, pdftoppm and pdffonts (Debian
 * poppler-utils) for PDFs, LibreOffice (Debian libreoffice-calc) for spreadsheets. `npm test` installs them
 * (test/setup/ensure-system-packages.js). Documents a person should look at are kept under artifacts/documents/.
 */
const run = promisify(execFile);

export const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'artifacts', 'documents');

export function keep(name: string, bytes: Buffer | string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  writeFileSync(file, bytes);
  return file;
}

/** The PDF's text as pdftotext reads it (reading order, no layout). */
export async function pdfText(file: string): Promise<string> {
  const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', file, '-'], { maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/** Every page rendered by pdftoppm (which fails on a PDF it cannot read); returns the first page's PNG path. */
export async function renderFirstPage(file: string, resolution = 110): Promise<string> {
  const prefix = file.replace(/\.pdf$/, '');
  await run('pdftoppm', ['-png', '-r', String(resolution), '-f', '1', '-l', '1', '-singlefile', file, prefix]);
  return `${prefix}.png`;
}

/** Renders every page (to /dev/null-like temporary files is not needed: pdftoppm -q checks them all) and counts them. */
export async function renderAllPages(file: string): Promise<void> {
  await run('pdftoppm', ['-q', '-r', '20', '-png', file, `${file.replace(/\.pdf$/, '')}-all`]);
}

export type FontInfo = Readonly<{ name: string; type: string; embedded: boolean; subset: boolean; unicode: boolean }>;

/** pdffonts: every font the PDF uses, whether it is embedded. */
export async function pdfFonts(file: string): Promise<FontInfo[]> {
  const { stdout } = await run('pdffonts', [file]);
  return stdout
    .split('\n')
    .slice(2)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const parts = line.trim().split(/\s+/);
      // name type… encoding emb sub uni object ID: the last five columns are fixed.
      const [emb, sub, uni] = parts.slice(-5, -2);
      return { name: parts[0]!, type: parts.slice(1, -6).join(' '), embedded: emb === 'yes', subset: sub === 'yes', unicode: uni === 'yes' };
    });
}

/** pdfinfo's page count. */
export async function pdfPages(file: string): Promise<number> {
  const { stdout } = await run('pdfinfo', [file]);
  return Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1] ?? Number.NaN);
}

/** LibreOffice headless converts the spreadsheet to CSV: proof another program reads it. Returns the CSV text. */
export async function libreOfficeCsv(file: string, out_dir: string): Promise<string> {
  mkdirSync(out_dir, { recursive: true });
  // A profile of its own, so a LibreOffice the user has open (or another test) does not hold the lock.
  const profile = `file://${path.join(out_dir, 'lo-profile')}`;
  await run('soffice', [`-env:UserInstallation=${profile}`, '--headless', '--convert-to', 'csv:Text - txt - csv (StarCalc):44,34,76,1', '--outdir', out_dir, file], { timeout: 120_000 });
  const { readFileSync } = await import('node:fs');
  return readFileSync(path.join(out_dir, `${path.basename(file).replace(/\.xlsx$/, '')}.csv`), 'utf8');
}
