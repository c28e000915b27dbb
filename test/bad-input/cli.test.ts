// The CLI and users' CSV files (issue 11, classes 7 and 8). A CSV that would train garbage (a number beyond
// float32, duplicate column names) is refused with its line, column and value; an --out that cannot be written is
// refused before any work, with the OS's reason; --resume with flags that contradict the checkpoint names each
// one with both values. Each case checks that nothing was printed or trained, that the run it refused is
// untouched and still continues, and (for CSVs read in-process) that memory is unchanged.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { csvData } from '../../src/train/csv-data.js';
import { expectNoLeaksAsync } from '../helpers/api.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');

function cli(args: string[], nodeFlags: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeFlags, CLI, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number | null) ?? -1 : 0, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'wg-bad-cli-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
/** A run of one epoch whose checkpoint the --resume cases try to continue. */
const run = join(dir, 'run');
const checkpoint = join(run, 'checkpoint.ckpt');
let checkpointBytes: Buffer;

beforeAll(async () => {
  const r = await cli(['train', '--epochs', '1', '--hidden', '16', '--dropout', '0', '--out', run, '--json']);
  expect(r.code).toBe(0);
  checkpointBytes = readFileSync(checkpoint);
}, 120_000);

const csvCases: [string, string, string[], string][] = [
  ['a feature beyond float32', 'a,b,y\n1,2,p\n3,1e39,q\n', [],
    "CSV line 3, column 'b': 1e39 is beyond float32's range (±3.4028235e38) and would become Infinity; rescale the column"],
  ['a regression target beyond float32', 'a,y\n1,0.5\n\n2,-4e38\n', ['--task', 'regression'],
    "CSV line 4, column 'y': -4e38 is beyond float32's range (±3.4028235e38) and would become Infinity (regression target)"],
  ['duplicate column names', 'x, y ,x,y\n1,2,3,a\n', [],
    "CSV: duplicate column names: 'x' (columns 1 and 3), 'y' (columns 2 and 4); give each column its own name"],
  ['too many classes', `a,y\n${Array.from({ length: 65_537 }, (_, i) => `${i},c${i}`).join('\n')}\n`, [],
    "CSV: the target 'y' has more than 65,536 distinct values, too many classes"],
];

describe('CSVs that would train garbage', () => {
  it.each(csvCases)('%s: the CLI refuses it, naming the place', async (_name, text, flags, message) => {
    const out = join(dir, 'csv-out');
    const r = await cli(['train', '--data', file('bad.csv', text), '--target', 'y', ...flags, '--out', out]);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `wasmgrad: ${message}\n` });
    expect(existsSync(join(out, 'checkpoint.ckpt'))).toBe(false);
  });

  it.each(csvCases)('%s: csvData rejects it and memory is unchanged', async (_name, text, flags, message) => {
    await init({ build: 'simd' });
    const path = file('in-process.csv', text);
    const task = flags[1] as 'regression' | undefined;
    await expectNoLeaksAsync(() => expect(csvData(path, { target: 'y', task })).rejects.toThrow(message));
  });

  it('a CSV bigger than the heap is streamed: with a 16 MB heap, a 48 MB file is read to its last line', async () => {
    // A file held as one string cannot be bigger than V8's string limit (2^29 − 24 characters): streaming is
    // what lifts that limit. A 16 MB heap stands in for it here, since a 512 MB file would take a minute. (The typed
    // columns grow with the rows: 12 MB for 24 MB of file left too little margin on a loaded machine.)
    const row = `1.${'0'.repeat(400)}1,1\n`;
    const rows = Math.ceil((48 << 20) / row.length);
    const big = file('big.csv', `x,y\n${row.repeat(rows)}oops,1\n`);
    const r = await cli(['train', '--data', big, '--target', 'y', '--out', join(dir, 'big-out')], ['--max-old-space-size=16']);
    expect(r.stderr).toBe(`wasmgrad: CSV line ${rows + 2}, column 'x': 'oops' is not a number, though the column holds numbers ` +
      "(line 2: 1.000000000000000000000…); correct it, mark it missing (empty, NA or ?), or leave the column out (--ignore)\n");
  }, 60_000);
});

describe('an --out that cannot be written is reported before any work', () => {
  const aFile = file('a-file', 'not a directory');
  const cases: [string, string, string | RegExp][] = [
    ['under a regular file', join(aFile, 'out'), `--out: cannot write to ${join(aFile, 'out')}: ENOTDIR: not a directory, mkdir '${join(aFile, 'out')}'`],
    ['an existing file', aFile, `--out: cannot write to ${aFile}: it exists and is not a directory`],
    // procfs answers ENOENT for a new entry, where Node's mkdir({ recursive: true }) would spin forever
    ['under /proc', '/proc/wasmgrad-out/run', "--out: cannot write to /proc/wasmgrad-out/run: ENOENT: no such file or directory, mkdir '/proc/wasmgrad-out'"],
    // sysfs refuses even root
    ['under /sys', '/sys/wasmgrad-out', /^--out: cannot write to \/sys\/wasmgrad-out: (EPERM|EROFS|EACCES): /],
  ];
  it.each(cases.filter(([name]) => process.platform === 'linux' || !name.startsWith('under /')))('%s', async (_name, out, message) => {
    const r = await cli(['train', '--epochs', '1', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(''); // not even the header line: no data was read, nothing was trained
    if (typeof message === 'string') expect(r.stderr).toBe(`wasmgrad: ${message}\n`);
    else expect(r.stderr.replace(/^wasmgrad: /, '')).toMatch(message);
  });

  it.skipIf(process.getuid?.() === 0)('a directory without write permission (not as root, where chmod does not stop writes)', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    try {
      for (const out of [locked, join(locked, 'sub')]) {
        const r = await cli(['train', '--epochs', '1', '--out', out]);
        expect(r).toMatchObject({ code: 1, stdout: '' });
        expect(r.stderr).toContain(`wasmgrad: --out: cannot write to ${out}: EACCES: permission denied`);
      }
    } finally {
      chmodSync(locked, 0o755);
    }
  });
});

describe('--resume with flags that contradict the checkpoint', () => {
  it.each<[string, string[], string]>([
    ['one flag', ['--hidden', '64'], '--hidden 64 (the checkpoint: 16) differs'],
    ['every run-defining flag', ['--hidden', '64,32', '--activation', 'tanh', '--dropout', '0.5', '--optimizer', 'sgd', '--lr', '0.1',
      '--momentum', '0.5', '--weight-decay', '0.01', '--l2', '0.001', '--schedule', 'step', '--batch-size', '32', '--seed', '7'],
    '--hidden 64,32 (the checkpoint: 16), --activation tanh (the checkpoint: relu), --dropout 0.5 (the checkpoint: 0), ' +
      '--batch-size 32 (the checkpoint: 64), --lr 0.1 (the checkpoint: 0.002), --optimizer sgd (the checkpoint: adam), ' +
      '--momentum 0.5 (the checkpoint: 0.9), --weight-decay 0.01 (the checkpoint: 0), --l2 0.001 (the checkpoint: 0), ' +
      '--schedule step (the checkpoint: cosine), --seed 7 (the checkpoint: 0) differ'],
  ])('%s: refused, naming each with both values', async (_name, flags, conflicts) => {
    const r = await cli(['train', '--resume', checkpoint, '--epochs', '2', '--out', run, ...flags]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(`wasmgrad: --resume: ${conflicts} from the checkpoint's run; ` +
      'leave them out to continue that run, or start a new run without --resume\n');
    expect(readFileSync(checkpoint).equals(checkpointBytes)).toBe(true);
  });

  it('flags given with the checkpoint\'s own values are no conflict, and the run continues', async () => {
    const r = await cli(['train', '--resume', checkpoint, '--epochs', '2', '--hidden', '16', '--optimizer', 'adam', '--batch-size', '64',
      '--out', join(dir, 'continued'), '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).epochs).toHaveLength(2);
  }, 60_000);
});

describe('predict checks what it reads as train does', () => {
  /** A model trained on a two-feature CSV (x, y; label c), for predict to read. */
  const csvRun = join(dir, 'csv-run');
  beforeAll(async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2 ? 'odd' : 'even'}`);
    const r = await cli(['train', '--data', file('train.csv', `x,y,c\n${rows.join('\n')}\n`), '--target', 'c', '--epochs', '1',
      '--hidden', '4', '--out', csvRun, '--json']);
    expect(r.code).toBe(0);
  }, 120_000);

  it.each([
    ['a feature beyond float32', 'x,y\n1,2\n3,1e39\n', "CSV line 3, column 'y': 1e39 is beyond float32's range"],
    ['a feature in hexadecimal', 'x,y\n0x10,2\n', "CSV line 2, column 'x': '0x10' is not a number"],
    ['a feature column twice', 'x,y,x\n1,2,3\n', "CSV: the column name 'x' appears more than once"],
  ])('%s in --data is refused with its place', async (_name, text, message) => {
    const r = await cli(['predict', '--model', join(csvRun, 'model.safetensors'), '--data', file('predict.csv', text)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`wasmgrad: ${message}`);
  });

  it('columns it does not use may hold anything, and the truth column gives the accuracy', async () => {
    const r = await cli(['predict', '--model', join(csvRun, 'model.safetensors'), '--json',
      '--data', file('extra.csv', 'note,x,y,c\nhello,1,2,odd\n,4,0,even\n')]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { n: number; accuracy: number };
    expect(out.n).toBe(2);
    expect(out.accuracy).toBeGreaterThanOrEqual(0);
  });

  it('a model description that does not describe a model is our error, not an engine TypeError', async () => {
    const { fromSafetensors, toSafetensors, tensor } = await import('../../src/index.js');
    const real = fromSafetensors(new Uint8Array(readFileSync(join(csvRun, 'model.safetensors'))));
    const description = JSON.parse(real.metadata.wasmgrad_model!) as { mlp: Record<string, unknown> };
    for (const [change, message] of [
      [(d: { mlp: Record<string, unknown> }) => (d.mlp.activation = 'swish'), "activation the string 'swish'"],
      [(d: { mlp: Record<string, unknown> }) => (d.mlp.hidden = [4, -1]), 'layer widths'],
      [(d: { mlp: Record<string, unknown> }) => delete (d as Partial<typeof d>).mlp, 'it needs the object data and one of the objects mlp, cnn and gpt'],
    ] as const) {
      const d = structuredClone(description);
      change(d);
      // Re-sealed with a valid checksum, as a tool that edits files would: only the description is wrong.
      const tensors = Object.fromEntries(Object.entries(real.tensors).map(([k, t]) => [k, tensor(t.data as Float32Array, { shape: t.shape })]));
      const path = file('edited.safetensors', '');
      writeFileSync(path, toSafetensors(tensors, { format: 'pt', wasmgrad_model: JSON.stringify(d) }));
      for (const t of Object.values(tensors)) t.dispose();
      const r = await cli(['predict', '--model', path]);
      expect(r.stderr).toBe(`wasmgrad: --model: ${path} has an invalid model description: ${message}\n`);
    }
  });
});
