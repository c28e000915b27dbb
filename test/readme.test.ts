// The README's code blocks run as written (with 'wasmgrad' pointing at the sources), and do what they say.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const src = pathToFileURL(join(import.meta.dirname, '../src/index.ts')).href;

describe('README examples', () => {
  it('has the examples this test expects', () => {
    expect(blocks.length).toBe(2);
  });

  it.each(blocks.map((b, i) => [i, b] as [number, string]))('block %i runs', async (i, code) => {
    const dir = mkdtempSync(join(import.meta.dirname, '.readme-'));
    const file = join(dir, `block${i}.ts`);
    // Block 0 trains a model: measure it on 1000 training digits afterwards.
    const probe = i === 0 ? `
export const accuracy = tidy(() => {
  const { x, y } = data.take(Int32Array.from({ length: 1000 }, (_, k) => k));
  const p = model(x).argMax(-1).data();
  const t = y.data();
  return p.filter((v, k) => v === t[k]).length / 1000;
});
` : '';
    writeFileSync(file, code.replace(/from 'wasmgrad'/g, `from '${src}'`) + probe);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const mod = await import(pathToFileURL(file).href);
      if (i === 0) expect(mod.accuracy).toBeGreaterThan(0.9);
      if (i === 1) {
        const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
        expect(printed).toContain('upstream');
        expect(printed).toContain('digraph');
      }
    } finally {
      log.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
