// Threads under contention: the training steps of the MLP 784-128-10 (b64, b256) and of the digits CNN (b64) with
// threads 1, 2 and 'auto', on an idle machine and with one busy-loop process of the bench's own running (started
// for that phase, killed after it). Each setting has its own backend (createWasmBackend({ threads }), the build it
// picks: relaxed-simd-threads or simd-threads for more than one thread, relaxed or simd for one) and its own model;
// rounds alternate between the settings in a rotated order, so a change in the machine's load hits them all alike.
// A setting's figure is the median over rounds of its per-round median step time: under load the typical step is
// what a user waits for, not the luckiest. Before timing, every setting's first step must give the bits of threads 1.
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { createWasmBackend, setBackend } from '../../dist/index.js';
import { assertSameBits } from '../harness.js';
import { cnnConfigs, cnnStep } from './cnn.js';
import { mlpStep, trainBatches, type TrainStep } from './train.js';

export type Threads = 1 | 2 | 'auto';
export type Load = 'idle' | 'busy';

const SETTINGS: Threads[] = [1, 2, 'auto'];

export interface ContentionTiming {
  rounds: number;
  /** Time per setting per round, ms. */
  roundMs: number;
  /** Steps each setting runs before the first round, ms (the scheduler learns its rates in these). */
  warmupMs: number;
}

export interface ContentionRow {
  model: string;
  load: Load;
  threads: Threads;
  /** The build the backend loaded, and the threads it runs (1 + its workers). */
  build: string;
  running: number;
  samplesPerS: number;
  /** Median over rounds of the per-round median step time, ms. */
  ms: number;
  roundsMs: number[];
  steps: number;
}

export interface ContentionResult {
  timing: ContentionTiming;
  /** Load average (1, 5, 15 min) at the end of each phase. */
  loadavg: Record<Load, number[]>;
  rows: ContentionRow[];
}

interface Model { name: string; batch: number; make: () => TrainStep }

function models(quick: boolean): Model[] {
  const cnn = cnnConfigs(quick)[0]!;
  return [
    ...trainBatches(quick).map((b) => ({ name: `MLP 784-128-10 b${b}`, batch: b, make: () => mlpStep(b) })),
    { name: `digits CNN ${cnn.c1}-${cnn.c2} b${cnn.b}`, batch: cnn.b, make: () => cnnStep(cnn) },
  ];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * A loop that keeps one core busy, and ends by itself within a fraction of a second once its parent (the pid in its
 * argument) is gone and it has been handed to another: a bench stopped by a signal runs no clean-up.
 */
const BUSY_LOOP = 'const parent = Number(process.argv[1]); for (let i = 1; ; i++) if (i % 1e8 === 0 && process.ppid !== parent) process.exit();';

/** One busy-loop process, running once it has started; kill() ends it. */
async function busyProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', BUSY_LOOP, String(process.pid)], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  await new Promise((resolve) => setTimeout(resolve, 200)); // past Node's start-up: the loop is spinning
  return child;
}

interface Setting { threads: Threads; backend: Awaited<ReturnType<typeof createWasmBackend>>; s: TrainStep; roundsMs: number[]; steps: number }

/** Runs `s`'s step for about `ms` and returns the median step time. */
function timeRound(setting: Setting, ms: number): number {
  setBackend(setting.backend);
  const times: number[] = [];
  const end = performance.now() + ms;
  do {
    const t0 = performance.now();
    setting.s.step(false);
    times.push(performance.now() - t0);
  } while (performance.now() < end);
  setting.steps += times.length;
  return median(times);
}

async function measureModel(model: Model, load: Load, timing: ContentionTiming): Promise<ContentionRow[]> {
  const list: Setting[] = [];
  try {
    for (const threads of SETTINGS) {
      const backend = await createWasmBackend({ threads });
      setBackend(backend);
      list.push({ threads, backend, s: model.make(), roundsMs: [], steps: 0 });
    }
    // The first step of every setting, bit for bit that of one thread.
    const first = list.map(({ backend, s }) => {
      setBackend(backend);
      return { loss: [s.step(true)], ...s.state() };
    });
    list.forEach((st, i) => assertSameBits(`contention ${model.name} (${load})`, `threads ${st.threads}`, first[i]!, 'threads 1', first[0]!));
    for (const st of list) timeRound(st, timing.warmupMs);
    for (let r = 0; r < timing.rounds; r++) {
      for (let i = 0; i < list.length; i++) {
        const st = list[(i + r) % list.length]!;
        st.roundsMs.push(timeRound(st, timing.roundMs));
      }
    }
    return list.map((st) => {
      const ms = median(st.roundsMs);
      return {
        model: model.name, load, threads: st.threads, build: st.backend.build, running: st.backend.threads,
        samplesPerS: model.batch / (ms / 1000), ms, roundsMs: st.roundsMs, steps: st.steps,
      };
    });
  } finally {
    for (const { backend, s } of list) {
      setBackend(backend);
      s.dispose();
      backend.close();
    }
  }
}

/** Both phases, idle then busy; `log` gets a line per model and phase. */
export async function measureContention(quick: boolean, timing: ContentionTiming, log: (line: string) => void): Promise<ContentionResult> {
  const result: ContentionResult = { timing, loadavg: { idle: [], busy: [] }, rows: [] };
  for (const load of ['idle', 'busy'] as const) {
    const busy = load === 'busy' ? await busyProcess() : null;
    const stop = () => busy?.kill('SIGKILL');
    process.once('exit', stop); // never leave it spinning, whatever ends the run
    try {
      for (const model of models(quick)) {
        const rows = await measureModel(model, load, timing);
        result.rows.push(...rows);
        log(`  contention ${model.name}, ${load}: ` + rows.map((r) => `threads ${r.threads} ${Math.round(r.samplesPerS)} samples/s`).join(', '));
      }
    } finally {
      stop();
      process.off('exit', stop);
    }
    result.loadavg[load] = os.loadavg();
  }
  return result;
}
