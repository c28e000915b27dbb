// compile(): a training step traced once and replayed. The first call of a shape runs the function eagerly while
// observeBackend records every outermost backend call with its arguments; the buffers the step makes and drops are
// then planned by liveness onto a few buffers reused across calls (after fuse.ts has merged the pairs of calls
// that one backend call runs with the same bits: a weight gradient's product and its SGD update), and later calls
// replay the recorded kernels on them: no graph, no tensor objects, no validation layer, no allocation but the
// returned tensor. What changes from call to call is not frozen: the arguments' buffers are bound, and the
// refreshes the engine registered while tracing (trace.ts) recompute optimizer numbers, dropout masks and batch
// norm's counter and check labels again. Guards decide whether a recording still fits a call (argument shapes and
// dtypes, train/eval modes, parameter groups, tensors still alive); when none does, the call is traced again, up
// to `maxTraces` recordings per step.
import { census, withOrigin } from '../autograd/census.js';
import { engine, tidy, type Scope } from '../autograd/scope.js';
import { Tensor } from '../autograd/tensor.js';
import { isObserved, observeBackend, type BackendMethod, type Observer } from '../backend/observe.js';
import { getBackend } from '../backend/registry.js';
import type { Backend, Buf, DirectCalls, DType } from '../backend/types.js';
import { fmt } from '../kernels/shape.js';
import { checkOptions, describe, integer } from '../options.js';
import { fuseMatmulSgd } from './fuse.js';
import { tracing, type RecordedCall, type Refresh, type Tracer } from './trace.js';

/** Options of compile(). */
export interface CompileOptions {
  /** How many recordings (shapes, modes) one compiled step keeps before a change is an error (default 8). */
  maxTraces?: number;
}

/** What a step may return: the loss, several tensors (the loss and the logits, say), or nothing. */
export type StepResult = Tensor | readonly Tensor[] | void;

/** A compiled step: call it as the function; dispose() frees its recordings and their memory. */
export interface CompiledStep<A extends unknown[], R extends StepResult> {
  (...args: A): R;
  /** Frees every recording and its buffers. Gradients it handed out stay valid until disposed. */
  dispose(): void;
  /** Calls that were traced (run eagerly while recording), and calls that replayed a recording. */
  readonly traces: number;
  /** Calls that replayed a recording. */
  readonly replays: number;
}

/**
 * Compiles a training step: `fn` takes tensors (and numbers or other primitives, which are frozen into a recording
 * like any value the function closes over) and returns the loss tensor, an array of tensors, or nothing; each call
 * returns new tensors without a graph. See the file comment and the README's "Compiled steps" for what replays and
 * what is refused.
 */
export function compile<A extends unknown[], R extends StepResult>(fn: (...args: A) => R,
  options: CompileOptions = {}): CompiledStep<A, R> {
  if (typeof fn !== 'function') throw new Error(`compile: expected a function (the training step), got ${describe(fn)}`);
  checkOptions('compile', options, { maxTraces: integer({ ge: 1 }) }, {
    mode: 'there is one way to compile: record the kernels, replay them',
    fullgraph: 'the whole function is always one recording',
    dynamic: 'each set of argument shapes gets a recording of its own',
    backend: 'a compiled step runs on the current backend',
  });
  const maxTraces = options.maxTraces ?? 8;
  const recordings: Recording[] = [];
  let disposed = false, traces = 0, replays = 0;
  /** Consecutive traces that left state behind (an optimizer's first step makes its state; a leak does it each time). */
  let unsettled = 0;

  const step = (...args: A): R => {
    if (disposed) throw new Error('compile: this compiled step was disposed; compile the function again to use it');
    if (tracing.active) throw new Error('compile: a compiled step cannot run inside another one while it is traced');
    args.forEach(checkArgument);
    let change: string | null = null;
    for (let i = 0; i < recordings.length; i++) {
      const r = recordings[i]!;
      const mismatch = r.mismatch(args);
      if (mismatch === null) {
        if (i > 0) recordings.unshift(...recordings.splice(i, 1)); // the most recent fit is tried first
        replays++;
        return r.replay(args) as R;
      }
      change ??= mismatch;
    }
    if (recordings.length >= maxTraces) {
      throw new Error(`compile: the step changed again after ${maxTraces} trace${maxTraces > 1 ? 's' : ''} (${change}); keep its inputs' ` +
        'shapes and the modules\' modes steady, or raise maxTraces');
    }
    traces++;
    const { results, recording, leftovers } = trace(fn, args);
    if (recording) {
      recordings.unshift(recording);
      unsettled = 0;
    } else if (++unsettled >= 2) {
      for (const t of results instanceof Tensor ? [results] : results ?? []) t.dispose();
      throw new Error(`compile: every call leaves tensors alive that the step neither returns nor keeps as gradients ` +
        `(made by ${leftovers.join(', ')}); a compiled step keeps only its results, the parameters' gradients and ` +
        'state made on its first call (an optimizer\'s): dispose the rest inside the function or move it out');
    }
    return results as R;
  };
  return Object.defineProperties(step, {
    dispose: {
      value: () => {
        disposed = true;
        for (const r of recordings.splice(0)) r.dispose();
      },
    },
    traces: { get: () => traces },
    replays: { get: () => replays },
  }) as unknown as CompiledStep<A, R>;
}

/** Arguments are tensors or primitives (numbers, strings, booleans: frozen into the recording, a change retraces). */
function checkArgument(a: unknown, i: number): void {
  if (a instanceof Tensor || a === null || (typeof a !== 'object' && typeof a !== 'function')) return;
  throw new Error(`compile: argument ${i} must be a tensor or a primitive (a number, a string), got ${describe(a)}; ` +
    'pass tensors separately');
}

/** A call of the recording: the backend method, its arguments (buffers as replay uses them) and what it returned. */
interface Call extends RecordedCall {
  readonly method: BackendMethod;
  /** A kernel's number result (maxPool2dGrad's first bad index): replay checks it is the same. */
  readonly result: unknown;
}

/** JavaScript work at a point of the sequence (before call `at`): a refresh of calls [at, end), or a gradient to hand out. */
interface Hook {
  at: number;
  end: number;
  readonly uses: readonly Buf[];
  readonly refresh?: Refresh;
  readonly install?: { leaf: Tensor; buf: Buf };
}

/** The recorder: the observer of the backend and the Tracer the engine's hooks talk to while one call runs. */
class Recorder implements Tracer {
  readonly calls: Call[] = [];
  readonly hooks: Hook[] = [];
  readonly guards: (() => string | null)[] = [];
  /** Buffers allocated while tracing, with what made them (for messages). */
  readonly made = new Map<Buf, string>();
  private readonly guarded = new Set<object>();
  /** Leaves whose gradient the step drops itself (zeroGrad inside the function). */
  private readonly dropped = new Set<Tensor>();
  /** Nesting of backend calls (only the outermost are recorded) and of replayed() blocks (reads, draws allowed). */
  private depth = 0;
  private trusted = 0;
  /** A refusal found while the call ran, thrown when it is over. */
  problem: string | null = null;

  constructor(readonly backend: Backend) {}

  readonly observe: Observer = (method, args, run) => {
    if (this.depth > 0) return run();
    if (this.trusted === 0) this.refuse(method, args);
    this.depth++;
    let result: unknown;
    try {
      result = run();
    } finally {
      this.depth--;
    }
    if (method === 'alloc') this.made.set(result as Buf, census.origin ?? 'tensor()');
    else if (method !== 'free' && method !== 'read' && method !== 'memory' && method !== 'resetPeak') {
      this.calls.push({ method, args: args.map((a) => this.copy(a)), result });
    }
    return result;
  };

  /**
   * Reads of data and frees of tensors the step did not make cannot be replayed faithfully: a read is refused at
   * once, a free when the call is over (refusing it midway would leave the tensor half disposed).
   */
  private refuse(method: BackendMethod, args: readonly unknown[]): void {
    if (method === 'read') {
      throw new Error('compile: the step reads tensor data (.item(), .data(), a check that reads values) inside the ' +
        'function, and replay would not read it again; return the tensor and read the result outside' +
        (engine.checkNumerics ? ' (checkNumerics(true) reads every output: turn it off for compiled steps)' : ''));
    }
    if (method === 'free' && !this.made.has(args[0] as Buf)) {
      this.problem ??= 'compile: the step disposes a tensor it did not make (an argument, a parameter, a tensor from ' +
        'outside), and replay would not dispose it again; dispose it outside the step';
    }
  }

  /** An argument as recorded: buffers by reference, plans and data copied (the caller may reuse its arrays). */
  private copy(v: unknown): unknown {
    if (v === null || typeof v !== 'object' || (v as Buf).backend === this.backend) return v;
    if (ArrayBuffer.isView(v)) return (v as Float32Array).slice();
    if (Array.isArray(v)) return v.map((x) => this.copy(x));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.copy(x)]));
  }

  replayed<T>(run: () => T, refresh: Refresh, uses: readonly Buf[] = []): T {
    const hook: Hook = { at: this.calls.length, end: -1, refresh, uses };
    this.hooks.push(hook);
    this.trusted++;
    try {
      return run();
    } finally {
      this.trusted--;
      hook.end = this.calls.length;
    }
  }

  guard(key: object, check: () => string | null): void {
    if (this.guarded.has(key)) return;
    this.guarded.add(key);
    this.guards.push(check);
  }

  gradient(leaf: Tensor, grad: Tensor, into: boolean): void {
    if (into) {
      if (this.made.has(grad.buf)) return; // a second backward in the step: the accumulation is recorded
      throw new Error(`compile: backward accumulates into the gradient ${leaf.describe()} had before the step, and ` +
        'replay would start from the traced one; call optimizer.zeroGrad() inside the step, or before every call');
    }
    this.hooks.push({ at: this.calls.length, end: this.calls.length, uses: [grad.buf], install: { leaf, buf: grad.buf } });
    if (!this.dropped.has(leaf)) {
      this.guard(leaf, () => (leaf.grad === null ? null
        : `${leaf.describe()} has a gradient when the step starts (zeroGrad() was not called)`));
    }
  }

  cleared(leaves: readonly Tensor[]): void {
    for (const t of leaves) this.dropped.add(t);
  }

  draw(): void {
    if (this.trusted > 0) return;
    throw new Error('compile: the step draws random numbers (randn, rand, a Generator) outside nn.Dropout, and replay ' +
      'would repeat the traced numbers; draw them outside the step and pass them in as an argument');
  }
}

/** What replay puts where the trace had a buffer: the call's argument or result, or a buffer of its own. */
type Slot = { kind: 'input' | 'result'; index: number } | { kind: 'fixed'; buf: Buf };

/** A place in a replayed call's arguments that takes a per-call buffer (an argument's, a result's). */
interface Patch { container: Record<string | number, unknown>; key: string | number; slot: Slot }

type ArgSpec = { tensor: true; dtype: DType; shape: readonly number[] } | { tensor: false; value: unknown };

/** Runs fn on args eagerly while recording. A recording comes back when the call left nothing but its results. */
function trace(fn: (...args: never[]) => unknown, args: unknown[]):
  { results: StepResult; recording: Recording | null; leftovers: string[] } {
  const backend = getBackend();
  const inputs = args.map((a) => (a instanceof Tensor ? a.buf : null));
  inputs.forEach((b, i) => {
    const j = inputs.indexOf(b);
    if (b && j !== i) throw new Error(`compile: arguments ${j} and ${i} share storage; pass separate tensors`);
  });
  const rec = new Recorder(backend);
  const detach = observeBackend(backend, rec.observe);
  tracing.active = rec;
  let returned: unknown;
  try {
    returned = tidy(() => fn(...(args as never[])));
  } finally {
    tracing.active = null;
    detach();
  }
  const list = returned instanceof Tensor ? [returned] : Array.isArray(returned) ? [...returned as unknown[]] : [];
  const tensors = list.filter((t): t is Tensor => t instanceof Tensor);
  const refuse = (message: string): never => {
    for (const t of tensors) if (rec.made.has(t.buf)) t.dispose(); // the step's own; an argument stays the caller's
    throw new Error(message);
  };
  if (rec.problem) refuse(rec.problem);
  if (!(returned === undefined || returned instanceof Tensor || (Array.isArray(returned) && tensors.length === list.length))) {
    refuse(`compile: the function must return a tensor (the loss), an array of tensors, or nothing, got ` +
      `${describe(returned)}; return tensors and read them (.item()) from what the compiled step returns`);
  }
  const storages = tensors.map((t) => t.buf);
  if (storages.some((b, i) => !rec.made.has(b) || storages.indexOf(b) !== i)) {
    refuse('compile: the function returned a tensor it did not make (an argument, a parameter) or one tensor twice; ' +
      'return tensors the step computes');
  }
  // The results without their graph, as replay returns them.
  const detached = tensors.map((t) => t.detach());
  for (const t of tensors) t.dispose();
  const results = returned instanceof Tensor ? detached[0] : Array.isArray(returned) ? detached : undefined;
  const grads = new Set(rec.hooks.flatMap((h) => (h.install ? [h.install.buf] : [])));
  const leftovers = [...rec.made].filter(([b]) => b.live && !storages.includes(b) && !grads.has(b)).map(([, origin]) => `'${origin}'`);
  if (leftovers.length) return { results, recording: null, leftovers: [...new Set(leftovers)] };
  try {
    return { results, recording: new Recording(rec, args, inputs, detached, Array.isArray(returned)), leftovers };
  } catch (e) {
    for (const t of detached) t.dispose();
    throw e;
  }
}

/** One traced call, planned: the calls to replay on fixed buffers, and what binds them to each call. */
class Recording {
  private readonly backend: Backend;
  private readonly specs: ArgSpec[];
  private readonly calls: Call[];
  private readonly hooks: (Hook & { calls: Call[] })[];
  private readonly guards: (() => string | null)[];
  private readonly patches: Patch[] = [];
  /** Buffers from outside the step (parameters, optimizer state, running statistics): each must stay alive. */
  private readonly externals: Buf[] = [];
  /** The buffers this recording owns: the planned intermediates, and the gradients (shared with what it hands out). */
  private readonly arena: Buf[] = [];
  private readonly gradients = new Map<Buf, Tensor>();
  /**
   * The gradients the last replay handed out (`views`) and those of the replay before (`older`), held here as a
   * scope holds its tensors rather than watched by the garbage collector's safety net: registering each with the
   * FinalizationRegistry and unregistering it when the next zeroGrad() disposes it cost a tenth of a 2-16-1 model's
   * step. A gradient still alive one replay later (dropped without dispose(), or kept by the program) is moved out
   * to the net then, and every one at dispose(): while this recording holds them they cannot be collected anyway.
   */
  private views: Scope = new Set();
  private older: Scope = new Set();
  private readonly results: { dtype: DType; shape: readonly number[]; origin: string }[];
  /** Whether the function returned an array (else one tensor, or nothing). */
  private readonly many: boolean;
  /** The per-call buffers of the call being replayed: the arguments', and the results'. */
  private inputs: Buf[] = [];
  private outputs: Buf[] = [];
  /** The buffer replay uses for a buffer of the trace (what refreshes map). */
  private readonly map: (b: Buf) => Buf;
  /** Each call's backend method, looked up once: replay calls it directly while no observer watches the backend. */
  private readonly methods: ((...args: unknown[]) => unknown)[];
  /** Each call's shortcut from the backend (DirectCalls), where it has one: run instead of the method, unobserved. */
  private readonly direct: ((() => unknown) | undefined)[];

  constructor(rec: Recorder, args: unknown[], inputs: (Buf | null)[], results: Tensor[], many: boolean) {
    this.backend = rec.backend;
    this.specs = args.map((a) => (a instanceof Tensor ? { tensor: true, dtype: a.dtype, shape: a.shape } : { tensor: false, value: a }));
    this.results = results.map((t) => ({ dtype: t.dtype, shape: t.shape, origin: rec.made.get(t.buf)! }));
    this.many = many;
    fuseMatmulSgd(rec.calls, rec.hooks, (args) => {
      const bufs: Buf[] = [];
      forEachBuf(args, this.backend, (b) => bufs.push(b));
      return bufs;
    });
    this.calls = rec.calls;
    const prototype = Object.getPrototypeOf(this.backend) as Record<string, (...args: unknown[]) => unknown>;
    this.methods = this.calls.map((c) => prototype[c.method]!);
    this.guards = rec.guards;
    const slots = new Map<Buf, Slot>();
    inputs.forEach((b, index) => b && slots.set(b, { kind: 'input', index }));
    results.forEach((t, index) => slots.set(t.buf, { kind: 'result', index }));
    try {
      for (const h of rec.hooks) if (h.install) slots.set(h.install.buf, { kind: 'fixed', buf: this.gradientBuffer(h.install) });
      this.planArena(rec, slots);
    } catch (e) {
      this.dispose();
      throw e;
    }
    const seen = new Set<Buf>();
    const place = (b: Buf): Slot => {
      let slot = slots.get(b);
      if (!slot) {
        slot = { kind: 'fixed', buf: b };
        slots.set(b, slot);
      }
      if (slot.kind === 'fixed' && !rec.made.has(b) && !seen.has(b)) {
        seen.add(b);
        this.externals.push(b);
      }
      return slot;
    };
    for (const c of this.calls) this.bind(c.args as unknown as Record<number, unknown>, place);
    const shortcuts = this.backend as Partial<DirectCalls>;
    this.direct = this.calls.map((c) => shortcuts.direct?.(c.method, c.args));
    for (const h of rec.hooks) h.uses.forEach(place);
    this.hooks = rec.hooks.map((h) => ({ ...h, calls: this.calls.slice(h.at, h.end) }));
    this.map = (b: Buf) => {
      const slot = slots.get(b);
      if (!slot) throw new Error('compile: a refresh maps a buffer it did not declare (a bug in wasmgrad)');
      return this.slotBuf(slot);
    };
  }

  /** The buffer a slot stands for in the call being replayed. */
  private slotBuf(slot: Slot): Buf {
    return slot.kind === 'fixed' ? slot.buf : slot.kind === 'input' ? this.inputs[slot.index]! : this.outputs[slot.index]!;
  }

  /** A gradient's own buffer, and the handle its .grad views share (uncounted, as a node's saved tensors). */
  /**
   * The buffer replay writes a gradient into, and the handle its .grad views share (uncounted, as a node's saved
   * tensors): the traced gradient's own storage while the leaf still holds it (so memory stays as the traced call
   * left it), else a new buffer.
   */
  private gradientBuffer({ leaf, buf }: { leaf: Tensor; buf: Buf }): Buf {
    const traced = leaf.grad?.buf === buf ? leaf.grad : null;
    const own = traced ?? new Tensor(this.backend.alloc(leaf.dtype, leaf.size), leaf.shape);
    const handle = own.savedHandle(null);
    if (!traced) own.dispose();
    this.gradients.set(handle.buf, handle);
    return handle.buf;
  }

  /**
   * Gives every buffer the step made and dropped a buffer of the arena: by liveness over the sequence (from its first
   * use to its last, calls and refreshes), sharing a buffer of the same dtype and size with one whose life has ended.
   */
  private planArena(rec: Recorder, slots: Map<Buf, Slot>): void {
    const life = new Map<Buf, [number, number]>();
    const use = (b: Buf, at: number) => {
      if (!rec.made.has(b) || slots.has(b)) return;
      const span = life.get(b);
      if (span) span[1] = at;
      else life.set(b, [at, at]);
    };
    const hooksAt = new Map<number, Hook[]>();
    for (const h of rec.hooks) hooksAt.set(h.at, [...(hooksAt.get(h.at) ?? []), h]);
    rec.calls.forEach((c, i) => {
      for (const h of hooksAt.get(i) ?? []) for (const b of h.uses) use(b, i);
      forEachBuf(c.args, this.backend, (b) => use(b, i));
    });
    for (const h of hooksAt.get(rec.calls.length) ?? []) for (const b of h.uses) use(b, rec.calls.length);
    const free = new Map<string, Buf[]>();
    const active: { last: number; key: string; buf: Buf }[] = [];
    for (const [b, [first, last]] of [...life].sort((x, y) => x[1][0] - y[1][0])) {
      for (let i = active.length - 1; i >= 0; i--) {
        const a = active[i]!;
        if (a.last >= first) continue;
        active.splice(i, 1);
        free.set(a.key, [...(free.get(a.key) ?? []), a.buf]);
      }
      const key = `${b.dtype}:${b.size}`;
      let buf = free.get(key)?.pop();
      if (!buf) {
        buf = this.backend.alloc(b.dtype, b.size);
        this.arena.push(buf);
      }
      slots.set(b, { kind: 'fixed', buf });
      active.push({ last, key, buf });
    }
  }

  /** Puts replay's buffers into a call's arguments (in place: they are the recorder's copies). */
  private bind(container: Record<string | number, unknown>, place: (b: Buf) => Slot): void {
    for (const key of Object.keys(container)) {
      const v = container[key];
      if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) continue;
      if ((v as Buf).backend !== this.backend) {
        this.bind(v as Record<string, unknown>, place);
        continue;
      }
      const slot = place(v as Buf);
      if (slot.kind === 'fixed') container[key] = slot.buf;
      else this.patches.push({ container, key, slot });
    }
  }

  /** Null when a call with these arguments replays this recording; else what differs. */
  mismatch(args: readonly unknown[]): string | null {
    if (getBackend() !== this.backend) return 'the current backend changed';
    if (args.length !== this.specs.length) return `it was traced with ${this.specs.length} arguments, called with ${args.length}`;
    for (let i = 0; i < args.length; i++) {
      const a = args[i], s = this.specs[i]!;
      if (!s.tensor) {
        if (!Object.is(a, s.value)) return `argument ${i} is ${describe(a)}, traced as ${describe(s.value)}`;
      } else if (!(a instanceof Tensor) || a.isDisposed || a.backend !== this.backend || a.dtype !== s.dtype ||
        !sameShape(a.shape, s.shape)) {
        const now = a instanceof Tensor ? (a.isDisposed ? 'a disposed tensor' : `${a.dtype} ${fmt(a.shape)}`) : describe(a);
        return `argument ${i} is ${now}, traced as ${s.dtype} ${fmt(s.shape)}`;
      }
    }
    for (const b of this.externals) {
      if (!b.live) return `a tensor the step uses (${b.dtype} of ${b.size} elements) was disposed or replaced`;
    }
    for (const g of this.guards) {
      const change = g();
      if (change !== null) return change;
    }
    return null;
  }

  /** Replays the recording on the arguments' buffers; returns the results in new tensors. */
  replay(args: readonly unknown[]): StepResult {
    const backend = this.backend;
    const outs: Buf[] = [];
    try {
      for (const r of this.results) outs.push(backend.alloc(r.dtype, sizeOfShape(r.shape)));
      this.run(args, outs);
    } catch (e) {
      for (const b of outs) backend.free(b);
      throw e;
    }
    const tensors = outs.map((b, i) => withOrigin(this.results[i]!.origin, () => new Tensor(b, this.results[i]!.shape)));
    return this.many ? tensors : tensors[0];
  }

  /** Runs the calls and the hooks between them, on the arguments' buffers and the results' `outs`. */
  private run(args: readonly unknown[], outs: Buf[]): void {
    const older = this.views;
    this.views = this.older;
    this.older = older;
    this.inputs = args.map((a) => (a instanceof Tensor ? a.buf : null!));
    this.outputs = outs;
    for (const p of this.patches) p.container[p.key] = this.slotBuf(p.slot);
    const backend = this.backend;
    // Observed (a profile of the compiled step): through the instance, where the observers sit.
    const observed = isObserved(backend) ? backend as unknown as Record<string, (...a: unknown[]) => unknown> : null;
    const { calls, hooks, methods, direct } = this;
    try {
      let h = 0;
      for (let i = 0; i <= calls.length; i++) {
        while (h < hooks.length && hooks[h]!.at === i) this.runHook(hooks[h++]!);
        if (i === calls.length) break;
        const c = calls[i]!;
        const shortcut = observed ? undefined : direct[i];
        const result = observed ? observed[c.method]!(...c.args) : shortcut ? shortcut() : methods[i]!.apply(backend, c.args);
        if (result !== c.result) {
          throw new Error(`compile: replaying ${c.method} returned ${describe(result)} where the traced step got ` +
            `${describe(c.result)}`);
        }
      }
    } finally {
      this.inputs = [];
      this.outputs = [];
      release(this.older);
    }
  }

  private runHook(h: Hook & { calls: Call[] }): void {
    if (h.refresh) h.refresh(h.calls, this.map);
    else {
      const { leaf, buf } = h.install!;
      // A view of the gradient's buffer: what backward would have set, built here with the leaf's shape, in `views`.
      engine.scopes.push(this.views);
      try {
        leaf.installGrad(withOrigin('backward', () => new Tensor(this.gradients.get(this.map(buf))!, leaf.shape)));
      } finally {
        engine.scopes.pop();
      }
    }
  }

  dispose(): void {
    release(this.older);
    release(this.views);
    for (const b of this.arena.splice(0)) if (b.live) this.backend.free(b);
    for (const t of this.gradients.values()) t.dispose();
    this.gradients.clear();
  }
}

/** Hands the tensors of `scope` to the garbage collector's safety net, outside every scope (as backward's gradients). */
function release(scope: Scope): void {
  for (const t of scope) t.moveToScope(null);
}

/** Calls f on every buffer of the backend inside a call's arguments (plans hold some: a bias, a mask). */
function forEachBuf(v: unknown, backend: Backend, f: (b: Buf) => void): void {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
  if ((v as Buf).backend === backend) f(v as Buf);
  else for (const x of Object.values(v)) forEachBuf(x, backend, f);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
const sizeOfShape = (s: readonly number[]) => s.reduce((n, d) => n * d, 1);
