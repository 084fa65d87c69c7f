import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The documents' one font family: Noto Sans Bengali (SIL Open Font License), which has Latin, Bengali and the
 * taka sign ৳ in one face, so a Bengali name, an English address and an amount set in the same line all have
 * glyphs. It ships with the app as an npm dependency (@expo-google-fonts/noto-sans-bengali: the TrueType files
 * and nothing else), so a fresh `npm ci` is enough. pdfkit embeds the subset of glyphs a document uses.
 * There is no italic face: italics print upright.
 */
export const FONT_FAMILY = 'NotoSansBengali';

const PACKAGE = '@expo-google-fonts/noto-sans-bengali';
const FILES = { normal: '400Regular/NotoSansBengali_400Regular.ttf', bold: '700Bold/NotoSansBengali_700Bold.ttf' } as const;

export type FontFiles = Readonly<{ normal: string; bold: string; italics: string; bolditalics: string }>;

export class FontMissing extends Error {
  readonly code = 'FONT_MISSING';
  constructor(file: string) {
    super(`the documents' font ${file} is missing: run \`npm ci\` (it comes with the npm package ${PACKAGE})`);
    this.name = 'FontMissing';
  }
}

let resolved: FontFiles | null = null;

/** The font files, found once; a clear error naming the package when they are not installed. */
export function documentFontFiles(): FontFiles {
  if (resolved !== null) return resolved;
  const require = createRequire(import.meta.url);
  const find = (file: string): string => {
    let path: string;
    try {
      path = require.resolve(`${PACKAGE}/${file}`);
    } catch {
      throw new FontMissing(`${PACKAGE}/${file}`);
    }
    if (!existsSync(path)) throw new FontMissing(path);
    return path;
  };
  const normal = find(FILES.normal);
  const bold = find(FILES.bold);
  resolved = { normal, bold, italics: normal, bolditalics: bold };
  return resolved;
}
