// The main entry and wasmgrad/inline load in a browser page without a bundler (the threads and demo pages import
// /dist/index.js directly): every module they import statically must be a relative file of this package. A bare
// specifier ('onnx-proto', 'csv-parse') is resolved only by Node or a bundler, and breaks such pages.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** Every bare specifier imported statically by `entry` and the files it reaches. */
function bareImports(entry: string): string[] {
  const seen = new Set<string>(), bare = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const [, spec] of code.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)) {
      if (spec === undefined) continue;
      if (spec.startsWith('.')) visit(join(dirname(file), spec));
      else bare.add(spec);
    }
  };
  visit(join(root, entry));
  return [...bare];
}

describe('entries that load unbundled in a browser', () => {
  it.each(['dist/index.js', 'dist/inline.js'])('%s imports only files of this package', (entry) => {
    expect(bareImports(entry)).toEqual([]);
  });

  it('the check sees a bare import: wasmgrad/onnx imports its protobuf library', () => {
    expect(bareImports('dist/interop/onnx/index.js').length).toBeGreaterThan(0);
  });
});
