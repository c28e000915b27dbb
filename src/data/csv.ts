// Users' own data: CSV files with a header row, parsed with csv-parse record by record: a file is streamed, never
// held as one string, so its size is not bounded by V8's string limit. Node only (csv-parse needs Node's streams);
// table.ts types the columns, preprocess.ts turns them into model inputs.
import { CsvError, parse as parseStream, type Options } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { numberOf } from './table.js';

/** Each record comes with its info, whose `lines` is the line the record ends on (empty lines are counted). */
const OPTIONS: Options = { skip_empty_lines: true, trim: true, relax_column_count: false, info: true };
type Parsed = { info: { lines: number }; record: string[] };

/**
 * Streams a CSV file's records (the header first) to `use`, with the line each ends on; each cell trimmed (csv-parse
 * trims around fields; quoted fields keep their spaces, which would make ' 1' text and ' a' a second column a).
 * Errors reading the file are Node's own (with their `syscall`), for the caller to name the file its own way.
 */
export async function eachRecord(path: string, use: (record: string[], line: number) => void): Promise<void> {
  // pipeline forwards a read error to the parser, whose iteration then throws it; leaving the loop early
  // (an error of ours) destroys both streams.
  const records = pipeline(createReadStream(path), parseStream(OPTIONS), () => {});
  try {
    for await (const { info, record } of records as AsyncIterable<Parsed>) use(record.map((cell) => cell.trim()), info.lines);
  } catch (e) {
    throw e instanceof CsvError ? new Error(`CSV: ${e.message}`) : e;
  }
}

/** A class label as training names it: trimmed; a number by its value in shortest form ('1.0', '01' → '1'). */
export function classLabel(cell: string): string {
  const v = numberOf(cell.trim());
  return Number.isFinite(v) ? String(v) : cell.trim();
}
