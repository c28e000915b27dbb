// `wasmgrad train`: trains an MLP on the embedded digits (the default) or on a CSV, a CNN on the digits
// (--model cnn), or a character-level GPT on the embedded names or a text file (--model gpt), with a progress bar
// per epoch, a summary table, and files: model.safetensors, checkpoint.ckpt, metrics.json, metrics.csv, chart.svg.
// Ctrl-C, SIGTERM or a closed stdout save a checkpoint (it resumes exactly, even mid-epoch) before exiting;
// --resume continues from one. --profile times some training steps after a warm-up: a table, and trace.json.
import { Option, type Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { backendInfo, getBackend } from '../backend/registry.js';
import { writeFileAtomic } from '../io/checkpoint.js';
import { memory } from '../memory.js';
import { Recorder, type Profile } from '../profile/profile.js';
import { asciiChart, trainingChart } from '../report/chart.js';
import { CSV_VAL_SPLIT, csvData } from '../train/csv-data.js';
import { loadNames } from '../data/names.js';
import { splitLines } from '../data/text.js';
import { digitsData } from '../train/data.js';
import { ACTIVATION_NAMES, architecture, MODEL_NAMES, type ModelName } from '../train/model.js';
import { textData, type TextData } from '../train/text-data.js';
import {
  DEFAULTS, defaultsFor, OPTIMIZERS, SCHEDULES, Trainer, type EpochMetrics, type TrainConfig, type TrainData,
} from '../train/trainer.js';
import {
  checkOutDir, exitCodeOf, fraction, initBackend, intList, nameList, nonNegative, nonNegativeInt, positiveInt, positiveNumber, probability, runDir,
  threadCount, watchStops, type StopSignal,
} from './common.js';
import { fileIdentity, fileProblem, tableConflicts, tableRunOf, type TableRun } from './table-run.js';

interface TrainFlags {
  data?: string; target?: string; task: 'auto' | 'classification' | 'regression'; valSplit?: number;
  features?: string[]; ignore?: string[]; maxCategories: number; force?: boolean;
  model: TrainConfig['model']; hidden: number[]; activation: TrainConfig['activation']; dropout: number;
  context: number; layers: number; heads: number; width: number; epochs: number; batchSize: number;
  lr: number; optimizer: TrainConfig['optimizer']; momentum: number; weightDecay: number; l2: number;
  schedule: TrainConfig['schedule']; randomShift: number; seed: number; backend: string; build: string; threads: number | 'auto'; out?: string; resume?: string;
  json?: boolean; progress: boolean; profile?: number;
}

export interface TrainSummary {
  backend: string; build: string; threads: number; data: string; config: TrainConfig;
  /** What the held-out rows are: the embedded digits' test set, or a validation split of a CSV or a text. */
  heldOut: HeldOut;
  /** Per epoch: the training loss and accuracy, the held-out rows' metrics (test… or val…; for regression MSE, RMSE, MAE, R²), lr, time. */
  epochs: EpochRecord[]; seconds: number;
  final: EpochRecord | null; files: Record<string, string>; interrupted: boolean;
  /** What interrupted the run (SIGPIPE: stdout's reader went away), or null. */
  signal: StopSignal | null;
  /** What the user should know about the threads (more than cores, one where 'auto' cannot share memory) and about the data (numeric class labels merged or renamed). */
  notes: string[];
  /** With --profile: which steps were profiled (counted from 1 in this run) and their profile; null if none ran. */
  profile?: (ReturnType<Profile['toJSON']> & { steps: [first: number, last: number] }) | null;
}

type HeldOut = 'test' | 'validation';
/**
 * How the run's output names things: the rate's unit (a text model predicts characters), the held-out rows (the
 * digits' test set, never trained on; a CSV's or a text's validation split), and whether the task is regression.
 */
interface Units { rate: string; heldOut: HeldOut; regression: boolean }

/** An epoch's metrics as metrics.json and --json write them: the held-out rows' keys named after them (testLoss, valLoss). */
export type EpochRecord = Record<string, number | null>;

function epochRecord(m: EpochMetrics, units: Units): EpochRecord {
  const p = units.heldOut === 'test' ? 'test' : 'val';
  const heldOut = units.regression
    ? { [`${p}Mse`]: m.testLoss, [`${p}Rmse`]: Math.sqrt(m.testLoss), [`${p}Mae`]: m.testMae ?? null, [`${p}R2`]: m.testR2 ?? null }
    : { [`${p}Loss`]: m.testLoss, [`${p}Accuracy`]: m.testAccuracy };
  return {
    epoch: m.epoch, trainLoss: m.trainLoss, ...(!units.regression && { trainAccuracy: m.trainAccuracy }), ...heldOut,
    lr: m.lr, seconds: m.seconds, samplesPerSecond: m.samplesPerSecond,
  };
}

/** A number to 4 significant digits, without trailing zeros (regression metrics, in the target's units). */
const fourDigits = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : String(Number(v.toPrecision(4))));

/** The held-out metrics of an epoch in a line: 'validation acc 91.20%' or 'validation MSE 10.2  RMSE 3.19  MAE 2.4  R² 0.83'. */
function heldOutText(m: EpochMetrics, units: Units, text: boolean): string {
  if (units.regression) {
    return `${units.heldOut} MSE ${fourDigits(m.testLoss)}  RMSE ${fourDigits(Math.sqrt(m.testLoss))}  MAE ${fourDigits(m.testMae)}` +
      `  R² ${m.testR2 === null || m.testR2 === undefined ? '—' : m.testR2.toFixed(3)}`;
  }
  return `${units.heldOut} loss ${m.testLoss.toFixed(4)}${text ? ' nats/char' : ''}` +
    `${m.testAccuracy === null ? '' : `  ${units.heldOut} acc ${(100 * m.testAccuracy).toFixed(2)}%`}`;
}

function progressLine(epoch: number, total: number, batch: number, batches: number, loss: number, acc: number | null, sps: number, units: Units): string {
  const width = 24;
  const done = Math.round((batch / batches) * width);
  return `epoch ${String(epoch).padStart(String(total).length)}/${total} [${'█'.repeat(done)}${'░'.repeat(width - done)}] ` +
    `${String(Math.round((100 * batch) / batches)).padStart(3)}%  loss ${loss.toFixed(4)}` +
    `${acc === null ? '' : `  acc ${(100 * acc).toFixed(2)}%`}  ${Math.round(sps).toLocaleString('en-US')} ${units.rate}`;
}

function summaryTable(rows: EpochMetrics[], units: Units): string {
  const pct = (v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(2)}%`);
  const h = units.heldOut;
  const metrics = units.regression ? ['train loss', `${h} MSE`, `${h} RMSE`, `${h} MAE`, `${h} R²`]
    : ['train loss', 'train acc', `${h} loss`, `${h} acc`];
  const values = (m: EpochMetrics) => units.regression
    ? [fourDigits(m.trainLoss), fourDigits(m.testLoss), fourDigits(Math.sqrt(m.testLoss)), fourDigits(m.testMae), m.testR2 == null ? '—' : m.testR2.toFixed(3)]
    : [m.trainLoss.toFixed(4), pct(m.trainAccuracy), m.testLoss.toFixed(4), pct(m.testAccuracy)];
  const head = ['epoch', ...metrics, 'lr', 'time', units.rate];
  const body = rows.map((m) => [String(m.epoch), ...values(m), m.lr.toExponential(2), `${m.seconds.toFixed(2)}s`,
    Math.round(m.samplesPerSecond).toLocaleString('en-US')]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(w[i]!)).join('  ');
  return [line(head), w.map((n) => '─'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

function metricsCsv(rows: EpochMetrics[], units: Units): string {
  const records = rows.map((m) => epochRecord(m, units));
  const keys = Object.keys(epochRecord({ epoch: 0, trainLoss: 0, trainAccuracy: null, testLoss: 0, testAccuracy: null, lr: 0, seconds: 0, samplesPerSecond: 0 }, units));
  return [keys.join(','), ...records.map((r) => keys.map((k) => r[k] ?? '').join(','))].join('\n') + '\n';
}

/**
 * Steps a run takes before --profile starts timing. The first ones run while the engine still compiles optimised
 * code (the JavaScript of the ops, and the kernels, which start on a baseline compiler and are recompiled in the
 * background), grow memory and, with threads, measure what sharing a call costs: none of it recurs. Measured on
 * the MLP, both the time in the kernels and outside them per step still fall over the first few tens of steps.
 */
const PROFILE_WARMUP = 50;

/** The profile of training steps first … last of a run (counted from 1). */
interface ProfiledSteps { profile: Profile<undefined>; first: number; last: number }

/** Profiles training steps PROFILE_WARMUP + 1 … PROFILE_WARMUP + steps of this run, each a span of one profile. */
function stepProfiler(steps: number) {
  let done = 0;
  let recorder: Recorder | null = null;
  const first = PROFILE_WARMUP + 1, last = PROFILE_WARMUP + steps;
  return {
    step<T>(run: () => T): T {
      done++;
      if (done < first || done > last) return run();
      recorder ??= new Recorder(getBackend());
      const end = recorder.begin(`step ${done}`);
      try {
        return run();
      } finally {
        end();
      }
    },
    /** The profile of the steps profiled (as many as ran), or null when the run ended within the warm-up. */
    result(): ProfiledSteps | null {
      return recorder && { profile: recorder.profile(undefined), first, last: Math.min(done, last) };
    },
    /** Steps taken so far. */
    get done() {
      return done;
    },
  };
}

const SETTINGS = Object.keys(DEFAULTS) as (keyof TrainConfig)[];
/** The flags that define a run (every TrainConfig field but epochs, which is the total to reach). */
const RUN_FLAGS = SETTINGS.filter((k) => k !== 'epochs');
const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * The configuration to continue a checkpoint's run with, and the run-defining flags the user gave that differ from
 * the checkpoint's ('--hidden 64 (the checkpoint: 16)'): those are refused, not silently ignored or half applied.
 */
function resumedConfig(saved: TrainConfig, flags: TrainFlags, given: (flag: keyof TrainFlags) => boolean): { config: TrainConfig; conflicts: string[] } {
  const conflicts = RUN_FLAGS.filter((k) => given(k) && String(flags[k]) !== String(saved[k]))
    .map((k) => `${flagName(k)} ${String(flags[k])} (the checkpoint: ${String(saved[k])})`);
  return { config: { ...saved, epochs: given('epochs') ? flags.epochs : defaultsFor(saved.model).epochs }, conflicts };
}

/**
 * What --resume continues: the configuration, and for a CSV run its record (the file, the column options, what
 * training learnt), whose file and options replace the flags. Every flag that contradicts the checkpoint and a
 * data file that is not the run's are refused together, in one message.
 */
async function resumeRun(bytes: Uint8Array, flags: TrainFlags, given: (flag: keyof TrainFlags) => boolean):
  Promise<{ config: TrainConfig; table: TableRun | null; flags: TrainFlags }> {
  const extra = Trainer.extraOf(bytes);
  const table = tableRunOf(extra);
  const { config, conflicts } = resumedConfig(Trainer.configOf(bytes), flags, given);
  if (table) conflicts.push(...tableConflicts(table, flags, given));
  const fileIssue = table && await fileProblem(table.file, flags.data ?? table.file.path);
  if (conflicts.length || fileIssue) {
    const problems = [...(conflicts.length ? [`${conflicts.join(', ')} ${conflicts.length === 1 ? 'differs' : 'differ'} from the checkpoint's run`] : []),
      ...(fileIssue ? [fileIssue] : [])];
    const advice = !fileIssue ? 'leave them out to continue that run' : !conflicts.length ? "give the run's own file with --data"
      : "leave those flags out and give the run's own file with --data";
    throw new Error(`--resume: ${problems.join('; ')}; ${advice}, or start a new run without --resume`);
  }
  if (!table) return { config, table, flags };
  const { target, task, features, ignore, maxCategories, valSplit } = table;
  return {
    config, table,
    flags: { ...flags, data: flags.data ?? table.file.path, target, task, features: features ?? undefined, ignore: ignore ?? undefined, maxCategories, valSplit },
  };
}

/** The settings a model does not use: given for it, they are refused rather than silently ignored. */
const UNUSED: Record<ModelName, (keyof TrainConfig)[]> = {
  mlp: ['context', 'layers', 'heads', 'width'],
  cnn: ['context', 'layers', 'heads', 'width'],
  gpt: ['hidden', 'activation'],
};

/** A new run's configuration: each setting as given, else the default of the chosen model. */
function newConfig(flags: TrainFlags, given: (flag: keyof TrainFlags) => boolean): TrainConfig {
  const unused = UNUSED[flags.model].filter((k) => given(k));
  if (unused.length) {
    throw new Error(`${unused.map(flagName).join(', ')} ${unused.length === 1 ? 'does' : 'do'} not apply to --model ${flags.model}` +
      (flags.model === 'gpt' ? " (a block's MLP is 4× --width, with GELU)" : ' (they shape --model gpt)'));
  }
  const defaults = defaultsFor(flags.model);
  return Object.fromEntries(SETTINGS.map((k) => [k, given(k) ? flags[k] : defaults[k]])) as unknown as TrainConfig;
}

/** A text file's lines (UTF-8). */
async function readTextLines(path: string): Promise<string[]> {
  const bytes = await readFile(path).catch((e: Error) => {
    throw new Error(`--data: cannot read ${path}: ${e.message}`);
  });
  try {
    return splitLines(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new Error(`--data: ${path} is not UTF-8 text`);
  }
}

/**
 * `given(flag)`: whether the user gave the flag (not its default); with --resume, only given flags can conflict
 * with the checkpoint.
 */
export async function runTrain(userFlags: TrainFlags, given: (flag: keyof TrainFlags) => boolean,
  log: (line: string) => void = console.log): Promise<TrainSummary> {
  const resumeBytes = userFlags.resume ? new Uint8Array(await readFile(userFlags.resume).catch((e: Error) => {
    throw new Error(`--resume: cannot read ${userFlags.resume}: ${e.message}`);
  })) : null;
  const resumed = resumeBytes && await resumeRun(resumeBytes, userFlags, given);
  const flags = resumed?.flags ?? userFlags;
  const config = resumed?.config ?? newConfig(flags, given);
  const text = config.model === 'gpt';
  if (text && flags.target) throw new Error("--target is a CSV's column; --model gpt learns a text file's lines (--data <file.txt>) and needs none");
  if (!text && flags.data && !flags.target) {
    throw new Error('--data needs --target <column> (the column to predict), or --model gpt to learn a text file');
  }
  if (flags.target && !flags.data) throw new Error('--target only applies with --data <file.csv>');
  const tableFlags = (['features', 'ignore', 'maxCategories'] as const).filter((f) => given(f) && (text || !flags.data));
  if (tableFlags.length) throw new Error(`${tableFlags.map(flagName).join(', ')} ${tableFlags.length > 1 ? 'apply' : 'applies'} to a CSV's columns (--data <file.csv>)`);
  if (given('valSplit') && !flags.data && !text) {
    throw new Error('--val-split applies to --data and --model gpt: the embedded digits come with their own test set');
  }
  if (flags.data && config.model === 'cnn') {
    throw new Error("--model cnn trains on images (the embedded digits), and a CSV's rows are not images: leave out --data, or train an MLP on it");
  }
  if (flags.data && !text && config.randomShift > 0) {
    throw new Error("--random-shift moves images (the embedded digits), and a CSV's rows are not images: leave it out with --data");
  }
  const threadNotes = await initBackend(flags.backend, flags.build, flags.threads);
  const dataName = flags.data ? basename(flags.data, extname(flags.data)) : text ? 'names' : 'digits';
  const { dir: out, note: outNote } = await runDir(flags.out, join('runs', dataName), { force: flags.force, resume: flags.resume });
  await checkOutDir(out);
  let data: TrainData, notes: string[] = outNote ? [outNote] : [];
  /** A CSV run's record, saved with each checkpoint for --resume. */
  let table: TableRun | null = null;
  if (text) {
    const lines = flags.data ? await readTextLines(flags.data) : await loadNames();
    data = textData(lines, { context: config.context, valSplit: flags.valSplit, name: flags.data ?? 'names' });
  } else if (flags.data) {
    const csv = await csvData(flags.data, {
      target: flags.target!, task: flags.task, valSplit: flags.valSplit, seed: config.seed, features: flags.features, ignore: flags.ignore,
      maxCategories: flags.maxCategories, learnt: resumed?.table?.info,
    }).catch((e: NodeJS.ErrnoException) => {
      throw e.syscall ? new Error(`--data: cannot read ${flags.data}: ${e.message}`) : e;
    });
    // Resumed: the file was checked against the checkpoint's (the same bytes); it only may have moved.
    const file = resumed?.table ? { ...resumed.table.file, path: resolve(flags.data) } : await fileIdentity(flags.data);
    table = {
      file, target: flags.target!, task: csv.info.task, features: flags.features ?? null, ignore: flags.ignore ?? null,
      maxCategories: flags.maxCategories, valSplit: flags.valSplit ?? CSV_VAL_SPLIT, info: csv.info,
    };
    let csvNotes: string[];
    ({ notes: csvNotes, ...data } = csv);
    notes.push(...csvNotes);
    // Dropout blurs a regression's outputs and buys little on a table: off unless asked for (a new run only).
    if (data.info.task === 'regression' && !resumeBytes && !given('dropout')) config.dropout = 0;
  } else data = await digitsData();
  notes = [...threadNotes, ...notes];
  const files: Record<string, string> = {
    model: join(out, 'model.safetensors'), checkpoint: join(out, 'checkpoint.ckpt'), metricsJson: join(out, 'metrics.json'),
    metricsCsv: join(out, 'metrics.csv'), chart: join(out, 'chart.svg'),
  };
  let trainer: Trainer;
  try {
    trainer = new Trainer(config, data);
  } catch (e) {
    data.train.dispose();
    data.test.dispose();
    throw e;
  }
  const units: Units = {
    rate: text ? 'chars/s' : 'samples/s', heldOut: flags.data || text ? 'validation' : 'test', regression: data.info.task === 'regression',
  };
  try {
    if (resumeBytes) {
      trainer.restore(resumeBytes);
      if (trainer.epoch >= config.epochs) throw new Error(`--resume: the checkpoint has already done ${trainer.epoch} epochs; ask for more with --epochs`);
    }
    // From here on a signal stops training at a point it can save (watched before the header is printed, so
    // that one sent as soon as it shows is caught).
    const stops = watchStops();
    const info = backendInfo();
    if (!flags.json) {
      log(`wasmgrad train: ${dataName} (${describeData(data, !!flags.data)})`);
      log(`model ${architecture(trainer.description())}, ${config.optimizer} lr ${config.lr}, ` +
        `batch ${config.batchSize}, ${config.epochs} epochs, schedule ${config.schedule}${config.l2 ? `, L2 λ=${config.l2}` : ''}` +
        `${config.randomShift ? `, random shifts ±${config.randomShift} px` : ''}; ` +
        `backend ${info.backend}${info.backend === 'wasm' ? ` (${info.build}${info.threads > 1 ? `, ${info.threads} threads` : ''})` : ''}${resumeBytes ? `; resumed after epoch ${trainer.epoch}` : ''}`);
      for (const note of notes) log(`note: ${note}`);
    }
    const tty = flags.progress && !flags.json && process.stdout.isTTY === true;
    const profiler = flags.profile ? stepProfiler(flags.profile) : null;
    const started = performance.now();
    try {
      while (trainer.epoch < config.epochs && !stops.signal) {
        const epoch = trainer.epoch + 1;
        const m = await trainer.trainEpoch({
          shouldStop: () => stops.signal !== null,
          onBatch: tty ? (b, n, loss, acc, sps) => process.stdout.write(`\r${progressLine(epoch, config.epochs, b, n, loss, acc, sps, units)}`) : undefined,
          step: profiler?.step,
        });
        if (tty) process.stdout.write('\r\x1b[2K');
        if (m && !flags.json) {
          log(`epoch ${m.epoch}/${config.epochs}  loss ${units.regression ? fourDigits(m.trainLoss) : m.trainLoss.toFixed(4)}  ` +
            `${heldOutText(m, units, text)}  ${Math.round(m.samplesPerSecond).toLocaleString('en-US')} ${units.rate}`);
        }
        await writeFileAtomic(files.checkpoint, trainer.checkpointBytes(table ? { table } : {}));
      }
    } finally {
      stops.close();
    }
    const signal = stops.signal, interrupted = signal !== null;
    const seconds = (performance.now() - started) / 1000;
    const history = trainer.history;
    await writeFileAtomic(files.model, trainer.modelBytes());
    const profiled = profiler?.result() ?? null;
    if (profiled) {
      files.trace = join(out, 'trace.json');
      await writeFile(files.trace, JSON.stringify(profiled.profile.trace()) + '\n');
    }
    const records = history.map((m) => epochRecord(m, units));
    const summary: TrainSummary = {
      backend: info.backend, build: info.build, threads: info.threads, data: flags.data ?? `${dataName} (embedded)`, config,
      heldOut: units.heldOut, epochs: records, seconds, final: records[records.length - 1] ?? null, files, interrupted, signal, notes,
      ...(profiler && { profile: profiled && { steps: [profiled.first, profiled.last], ...profiled.profile.toJSON() } }),
    };
    await writeFile(files.metricsJson, JSON.stringify({ ...summary, memory: memory() }, null, 2) + '\n');
    await writeFile(files.metricsCsv, metricsCsv(history, units));
    await writeFile(files.chart, trainingChart({
      trainLoss: history.map((m) => m.trainLoss), testLoss: history.map((m) => m.testLoss),
      trainAccuracy: history.map((m) => m.trainAccuracy), testAccuracy: history.map((m) => m.testAccuracy), heldOut: units.heldOut,
    }, dataName));
    if (flags.json) {
      log(JSON.stringify(summary));
    } else {
      if (interrupted) log(`\ninterrupted (${signal}): checkpoint saved to ${files.checkpoint} (continue with --resume ${files.checkpoint})`);
      if (history.length) {
        log(`\n${summaryTable(history, units)}\n`);
        const acc = history.map((m) => m.testAccuracy).filter((v): v is number => v !== null);
        if (text && history.length > 1) {
          log(asciiChart(history.map((m) => m.testLoss), { label: 'validation loss, nats/char', format: (v) => v.toFixed(3) }) + '\n');
        } else if (units.regression && history.length > 1) {
          log(asciiChart(history.map((m) => Math.sqrt(m.testLoss)), { label: `${units.heldOut} RMSE`, format: fourDigits }) + '\n');
        } else if (acc.length > 1) log(asciiChart(acc, { label: `${units.heldOut} accuracy`, format: (v) => `${(100 * v).toFixed(1)}%` }) + '\n');
        const f = history[history.length - 1]!;
        log(`done in ${seconds.toFixed(1)}s: ${text ? `validation loss ${f.testLoss.toFixed(4)} nats/char (sample with: wasmgrad sample --model ${out})`
          : units.regression ? `${units.heldOut} RMSE ${fourDigits(Math.sqrt(f.testLoss))} (MSE ${fourDigits(f.testLoss)}, MAE ${fourDigits(f.testMae)}` +
            `${f.testR2 == null ? '' : `, R² ${f.testR2.toFixed(3)}`})`
            : `${units.heldOut} accuracy ${(100 * f.testAccuracy!).toFixed(2)}%`}`);
      }
      if (profiler) log(profileReport(profiled, profiler.done, files.trace));
      log(`wrote ${Object.values(files).join(', ')}`);
    }
    return summary;
  } finally {
    trainer.dispose();
    data.train.dispose();
    data.test.dispose();
  }
}

/** What --profile prints: the steps profiled, time per step in and outside the kernels, and the table. */
function profileReport(profiled: ProfiledSteps | null, done: number, trace: string | undefined): string {
  if (!profiled) {
    return `\nprofile: nothing profiled: the run took ${done} training ${done === 1 ? 'step' : 'steps'}, and profiling starts ` +
      `after ${PROFILE_WARMUP} steps of warm-up`;
  }
  const { profile: p, first, last } = profiled;
  const steps = last - first + 1;
  const perStep = (ms: number) => `${(ms / steps).toFixed(3)} ms`;
  return `\nprofile of training ${steps === 1 ? `step ${first}` : `steps ${first}–${last}`} (after ${PROFILE_WARMUP} of warm-up), per step: ` +
    `${perStep(p.wallMs)}, ${perStep(p.kernelMs)} in kernels, ${perStep(p.outsideMs)} outside\n${p.table()}\n` +
    `trace: ${trace} (open it in ui.perfetto.dev or chrome://tracing)`;
}

/** The data in a few words, for the header. */
function describeData(data: TrainData | TextData, own: boolean): string {
  if ('tokenizer' in data) {
    const n = (x: number) => x.toLocaleString('en-US');
    return `${n(data.lines.train)} train / ${n(data.lines.val)} validation lines, ${n(data.characters.train)} / ${n(data.characters.val)} characters, ` +
      `vocabulary of ${data.tokenizer.vocabSize}`;
  }
  const columns = data.info.features ? new Set([...data.info.features.numeric, ...data.info.features.boolean.map((b) => b.name),
    ...data.info.features.categorical]).size : null;
  return `${data.train.length} train / ${data.test.length} ${own ? 'validation' : 'test'} rows, ` +
    `${columns === null || columns === data.info.inputDim ? '' : `${columns} columns → `}${data.info.inputDim} features, ` +
    `${data.info.task === 'classification' ? `${data.info.outputDim} classes` : `regression of '${data.info.target}'`}`;
}

/**
 * A flag for a setting of TrainConfig. Its default is the MLP's, and the help shows the other models' beside it
 * where they differ (runTrain takes the chosen model's default for each setting not given).
 */
function setting(flags: string, description: string, key: keyof TrainConfig): Option {
  const show = (v: unknown) => (Array.isArray(v) ? v.join(',') || 'none' : String(v));
  const mlp = show(DEFAULTS[key]);
  const others = (['cnn', 'gpt'] as const).filter((m) => !UNUSED[m].includes(key) && show(defaultsFor(m)[key]) !== mlp)
    .map((m) => `--model ${m}: ${show(defaultsFor(m)[key])}`);
  return new Option(flags, description).default(DEFAULTS[key], others.length ? [mlp, ...others].join('; ') : undefined);
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train an MLP or a CNN on the embedded handwritten digits, an MLP on your CSV (--data file.csv --target column), ' +
      'or a character-level GPT on the embedded names or your text (--model gpt [--data file.txt])')
    .option('--data <file>', 'train on a CSV file (with --target) instead of the embedded digits, or with --model gpt on a text file ' +
      '(its lines are the samples) instead of the embedded names; with --resume, the checkpoint\'s file')
    .option('--target <column>', 'the CSV column to predict: text, booleans or a few integers are classes, other numbers regression ' +
      "(with --resume, the checkpoint's)")
    .option('--features <columns>', 'use only these CSV columns as features, comma-separated (text columns of any cardinality included)', nameList('--features'))
    .option('--ignore <columns>', 'leave these CSV columns out, comma-separated (ids, leaks of the target)', nameList('--ignore'))
    .addOption(new Option('--max-categories <n>', 'text columns with more distinct values are left out with a note (names, ids, dates) ' +
      'unless --features keeps them').default(50).argParser(positiveInt('--max-categories')))
    .addOption(new Option('--task <kind>', 'classification or regression (auto: from the target column)').choices(['auto', 'classification', 'regression']).default('auto'))
    .option('--val-split <fraction>', "share held out for validation, in (0, 1): of a CSV's rows, at random (default 0.2), or of a text's lines, " +
      'its last ones (default 0.1)', fraction('--val-split'))
    .addOption(new Option('--model <name>', 'mlp; cnn: conv5×5(16)-BN-ReLU-pool, conv5×5(32)-BN-ReLU-pool, linear (digits only); ' +
      'gpt: a character-level transformer (text only)').choices(MODEL_NAMES).default(DEFAULTS.model))
    .addOption(setting('--hidden <widths>', "hidden layer widths, comma-separated (the CNN's: after its convolutions)", 'hidden')
      .argParser(intList('--hidden')))
    .addOption(setting('--activation <name>', 'activation φ', 'activation').choices(ACTIVATION_NAMES))
    .addOption(setting('--dropout <p>', "dropout after each hidden layer (the CNN's: also on its flattened features; " +
      "the GPT's: on its embeddings and each block's attention and MLP outputs)", 'dropout').argParser(probability('--dropout')))
    .addOption(setting('--context <n>', "the GPT's context: characters it reads at once (its position table)", 'context')
      .argParser(positiveInt('--context')))
    .addOption(setting('--layers <n>', "the GPT's transformer blocks", 'layers').argParser(positiveInt('--layers')))
    .addOption(setting('--heads <n>', "the GPT's attention heads per block (they must divide --width)", 'heads').argParser(positiveInt('--heads')))
    .addOption(setting('--width <n>', "the GPT's embedding width (a block's MLP is 4× as wide)", 'width').argParser(positiveInt('--width')))
    .addOption(setting('--epochs <n>', 'epochs (with --resume: the total to reach)', 'epochs').argParser(positiveInt('--epochs')))
    .addOption(setting('--batch-size <n>', 'mini-batch size', 'batchSize').argParser(positiveInt('--batch-size')))
    .addOption(setting('--lr <rate>', 'learning rate', 'lr').argParser(positiveNumber('--lr')))
    .addOption(setting('--optimizer <name>', 'optimizer', 'optimizer').choices(OPTIMIZERS))
    .addOption(setting('--momentum <m>', 'SGD momentum', 'momentum').argParser(nonNegative('--momentum')))
    .addOption(setting('--weight-decay <wd>', 'optimizer weight decay', 'weightDecay').argParser(nonNegative('--weight-decay')))
    .addOption(setting('--l2 <lambda>', "the seed's L2 term: adds λ/2·Σ‖W‖² to the loss", 'l2').argParser(nonNegative('--l2')))
    .addOption(setting('--schedule <name>', 'learning-rate schedule', 'schedule').choices(SCHEDULES))
    .addOption(setting('--random-shift <pixels>', 'move each training digit by up to this many pixels, a new offset every epoch', 'randomShift')
      .argParser(nonNegativeInt('--random-shift')))
    .addOption(setting('--seed <n>', 'random seed (init, shuffling, dropout, splits)', 'seed').argParser(nonNegativeInt('--seed')))
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'ref']).default('wasm'))
    .addOption(new Option('--build <name>', 'wasm build').choices(['auto', 'simd', 'relaxed', 'scalar']).default('auto'))
    .option('--threads <n>', "threads sharing large kernel calls, or 'auto': one per core, each kind of call shared while that pays " +
      "(results as one thread's)", threadCount, 'auto')
    .option('--out <dir>', 'output directory (default runs/<data name>, numbered runs/<data name>-2, -3, … past earlier runs; ' +
      'with --resume, the checkpoint\'s directory)')
    .option('--force', 'let --out overwrite a previous run in that directory')
    .option('--resume <checkpoint>', 'continue from a checkpoint written by train: flags that define the run may be left out (given, they must ' +
      "match it); for a CSV run also --data, --target, --task, --features, --ignore, --max-categories and --val-split, and its file must be " +
      'unchanged (size and SHA-256)')
    .option('--json', 'print one JSON summary and nothing else')
    .option('--no-progress', 'no progress bar (it is off anyway when stdout is not a terminal)')
    .addOption(new Option('--profile [steps]', `time this many training steps (default 20) after ${PROFILE_WARMUP} of warm-up: per-kernel ` +
      'calls, time, FLOPs and bytes, printed at the end and written as a trace (trace.json, for ui.perfetto.dev)')
      .preset('20').argParser(positiveInt('--profile')))
    .action(async (flags: TrainFlags, command: Command) => {
      const summary = await runTrain(flags, (flag) => command.getOptionValueSource(flag) === 'cli');
      if (summary.signal) process.exitCode = exitCodeOf(summary.signal);
    });
}
