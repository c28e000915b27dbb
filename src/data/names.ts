// The embedded names (data/names.txt.gz, built by scripts/make-names.mjs from the stdlib English first-name lists:
// 8,422 lowercase names, one per line, in a seeded random order). A small real text for character models ("make
// more names"). Loads in Node (read from disk) and in browsers (fetch + DecompressionStream), or from bytes.
import { gunzip, readSource } from '../platform.js';
import { splitLines } from './text.js';

/** The default location of the data file, beside the package's build/ and dist/. */
export const NAMES_URL = () => new URL('../../data/names.txt.gz', import.meta.url);

/** The names, one string each, from the package (or from `source`: the .gz bytes or their URL). */
export async function loadNames(source: Uint8Array | URL | string = NAMES_URL()): Promise<string[]> {
  const bytes = await gunzip(await readSource(source, 'names'));
  try {
    return splitLines(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new Error('names: not a names file (it is not UTF-8 text)');
  }
}
