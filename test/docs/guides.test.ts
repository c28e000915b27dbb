// The guides' code is real: every ```js / ```ts block in docs/guides/*.md is marked `run` or `check`.
//   run:   the block runs as a module ('wasmgrad…' imports point at the sources), must free every tensor it makes,
//          and each `console.log(…); // → text` line must print that text (numbers to 6 significant digits,
//          arrays and objects as JSON).
//   check: the block is type-checked against the library's types (code for browsers, bundlers, other processes).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { memory } from '../../src/index.js';

const root = join(import.meta.dirname, '../..');
const guidesDir = join(root, 'docs/guides');
const ENTRY = { wasmgrad: 'src/index.ts', 'wasmgrad/inline': 'src/inline.ts', 'wasmgrad/worker': 'src/worker/index.ts',
  'wasmgrad/tfjs': 'src/tfjs/index.ts' } as const;

interface Block { guide: string; index: number; lang: string; mode: string; code: string }

const blocks: Block[] = readdirSync(guidesDir).filter((f) => f.endsWith('.md')).sort().flatMap((guide) =>
  [...readFileSync(join(guidesDir, guide), 'utf8').matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)]
    .map((m, index) => ({ guide, index, lang: m[1]!, mode: m[2]!.trim(), code: m[3]! }))
    .filter((b) => ['js', 'ts', 'javascript', 'typescript'].includes(b.lang)));

const dir = mkdtempSync(join(import.meta.dirname, '.guides-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The block with its imports of the package pointed at the sources. */
const withSources = (code: string) => code.replace(/from '(wasmgrad(?:\/\w+)?)'/g, (whole, spec: keyof typeof ENTRY) =>
  (ENTRY[spec] ? `from '${pathToFileURL(join(root, ENTRY[spec])).href}'` : whole));

/** A value as the guides write it after `// →`. */
function show(v: unknown): string {
  const round = (x: unknown): unknown => (typeof x === 'number' ? Number(x.toPrecision(6))
    : ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>, round)
      : Array.isArray(x) ? x.map(round)
        : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, e]) => [k, round(e)])) : x);
  return typeof v === 'string' ? v : JSON.stringify(round(v));
}

describe('docs/guides', () => {
  it('has a guide per topic, each with code, and every js/ts block is marked run or check', () => {
    expect(readdirSync(guidesDir).filter((f) => f.endsWith('.md')).sort()).toEqual([
      'autograd-and-the-graph.md', 'browsers-and-bundlers.md', 'cli.md', 'nn-and-training.md', 'tensors-and-memory.md',
      'threads.md']);
    expect(blocks.filter((b) => b.mode !== 'run' && b.mode !== 'check').map((b) => `${b.guide} block ${b.index}`)).toEqual([]);
  });

  const runs = blocks.filter((b) => b.mode === 'run');
  it.each(runs.map((b) => [`${b.guide} block ${b.index}`, b] as const))('%s runs, frees its tensors, prints what it says', async (_, b) => {
    const file = join(dir, `${b.guide.replace('.md', '')}-${b.index}.${b.lang.startsWith('t') ? 'ts' : 'mjs'}`);
    writeFileSync(file, withSources(b.code));
    const expected = [...b.code.matchAll(/^.*console\.log\(.*$/gm)].map((m) => /\/\/ → (.*)$/.exec(m[0])?.[1] ?? null);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const before = memory().tensors;
    try {
      await import(pathToFileURL(file).href);
      const printed = log.mock.calls.map((args) => args.map(show).join(' '));
      if (expected.some((e) => e !== null)) {
        expect(printed.length, 'one console.log call per console.log line').toBe(expected.length);
        expected.forEach((e, i) => e !== null && expect(printed[i]).toBe(e));
      }
    } finally {
      log.mockRestore();
    }
    expect(memory().tensors, 'tensors alive after the block').toBe(before);
  });

  it('the check blocks type-check against the library', () => {
    const checks = blocks.filter((b) => b.mode === 'check');
    expect(checks.length).toBeGreaterThan(0);
    const files = checks.map((b) => {
      const file = join(dir, `${b.guide.replace('.md', '')}-${b.index}.ts`);
      writeFileSync(file, b.code);
      return file;
    });
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
      ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); },
    })!;
    const paths = Object.fromEntries(Object.entries(ENTRY).map(([spec, path]) => [spec, [join(root, path)]]));
    const program = ts.createProgram(files, { ...config.options, noEmit: true, noUnusedLocals: false, paths });
    const problems = ts.getPreEmitDiagnostics(program).filter((d) => d.file && files.includes(d.file.fileName))
      .map((d) => `${d.file!.fileName.slice(dir.length + 1)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  }, 300_000); // a type-check of the library's sources: slow on a loaded machine
});

// The guides' shell lines name real commands and flags: each `npx wasmgrad <command> --flag …` is checked against
// that command's --help (run on the built CLI, as users run it).
describe('docs/guides shell commands', () => {
  const lines = readdirSync(guidesDir).filter((f) => f.endsWith('.md')).flatMap((guide) =>
    [...readFileSync(join(guidesDir, guide), 'utf8').matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
      .flatMap((m) => m[1]!.split('\n').filter((l) => l.startsWith('npx wasmgrad'))));
  const helpOf = new Map<string, string>();
  const help = (command: string) => {
    if (!helpOf.has(command)) {
      helpOf.set(command, execFileSync(process.execPath, [join(root, 'dist/cli.js'), ...(command ? [command] : []), '--help'],
        { encoding: 'utf8' }));
    }
    return helpOf.get(command)!;
  };

  it('has commands to check', () => expect(lines.length).toBeGreaterThan(5));
  it.each(lines.map((l) => [l]))('%s', (line) => {
    const words = line.replace(/^npx wasmgrad\s*/, '').split(/\s+/).filter(Boolean);
    const command = words[0] && !words[0].startsWith('-') ? words[0] : '';
    if (command) expect(help('')).toMatch(new RegExp(`^  ${command} `, 'm'));
    for (const flag of words.filter((w) => w.startsWith('--'))) expect(help(command)).toMatch(new RegExp(`^\\s+(-\\w, )?${flag}\\b`, 'm'));
  });
});

// Relative links in the documentation point at files that exist.
describe('docs links', () => {
  const pages = ['docs/README.md', ...readdirSync(guidesDir).filter((f) => f.endsWith('.md')).map((f) => `docs/guides/${f}`)];
  it.each(pages.map((p) => [p]))('%s', (page) => {
    const text = readFileSync(join(root, page), 'utf8');
    const targets = [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));
    const missing = targets.filter((t) => !existsSync(join(root, dirname(page), t)));
    expect(missing).toEqual([]);
  });
});
