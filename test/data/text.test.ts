// The embedded names, character tokenization and next-character windows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CharTokenizer, IGNORE_INDEX, loadNames, splitLines, tokenWindows } from '../../src/index.js';

describe('embedded names', () => {
  it('holds 8,422 distinct lowercase names of letters and hyphens, not in alphabetical order', async () => {
    const names = await loadNames();
    expect(names).toHaveLength(8422);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => /^[a-z][a-z-]*[a-z]$/.test(n))).toBe(true);
    expect(names).toContain('abigail');
    // shuffled: the validation tail (last tenth) spans the alphabet
    expect(new Set(names.slice(-842).map((n) => n[0])).size).toBe(26);
  });

  it('loads from the .gz bytes as from the package file', async () => {
    const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, '../../data/names.txt.gz')));
    expect(await loadNames(bytes)).toEqual(await loadNames());
    await expect(loadNames(new Uint8Array([0xff, 0xfe, 0x00]))).rejects.toThrow('names: not a names file (it is not UTF-8 text)');
  });
});

describe('text lines', () => {
  it('splits on \\n and \\r\\n; a final newline ends the last line; blank lines inside are kept', () => {
    expect(splitLines('ab\r\ncd\n\nef\n')).toEqual(['ab', 'cd', '', 'ef']);
    expect(splitLines('ab')).toEqual(['ab']);
    expect(splitLines('')).toEqual([]);
  });
});

describe('CharTokenizer', () => {
  it("has the text's distinct characters and the newline, in code-point order, and round-trips text", () => {
    const t = CharTokenizer.fromText('banana 🍌\nbandana');
    expect(t.vocab).toEqual(['\n', ' ', 'a', 'b', 'd', 'n', '🍌']);
    const ids = t.encode('bad 🍌');
    expect(Array.from(ids)).toEqual([3, 2, 4, 1, 6]); // the emoji is one token, not two UTF-16 halves
    expect(t.decode(ids)).toBe('bad 🍌');
  });

  it('names every character outside the vocabulary, once, and what to do', () => {
    const t = CharTokenizer.fromText('abc');
    expect(() => t.encode('aXbXé\t', '--prompt')).toThrow(
      "--prompt: 'X', 'é', U+0009 are not in the vocabulary (U+000A 'a' 'b' 'c'): use only characters of the text the model was trained on");
    expect(() => t.decode([0, 4])).toThrow('CharTokenizer.decode: token 4 is out of range [0, 4)');
    expect(() => new CharTokenizer(['a', 'a'])).toThrow('CharTokenizer: vocab lists a character more than once');
    expect(() => new CharTokenizer(['ab'])).toThrow('CharTokenizer: vocab must be a non-empty list of single characters');
  });
});

describe('tokenWindows', () => {
  it('makes every token but the first a target exactly once, each the token after its input; the tail is padded', () => {
    const ids = Int32Array.from({ length: 11 }, (_, i) => 100 + i);
    const w = tokenWindows(ids, 4);
    expect(w.count).toBe(3); // 10 targets in windows of 4
    expect(Array.from(w.inputs)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 0, 0]);
    expect(Array.from(w.targets)).toEqual([101, 102, 103, 104, 105, 106, 107, 108, 109, 110, IGNORE_INDEX, IGNORE_INDEX]);
    expect(tokenWindows(Int32Array.from([1, 2, 3, 4, 5]), 4).count).toBe(1); // exactly full: no padding window
    expect(tokenWindows(Int32Array.from([1]), 4).count).toBe(0);
  });
});
