// Checking what users pass to the public API. An options object may hold only the names its API knows: an
// unknown name is refused with the name it most likely meant (snake_case and other spellings of the same name,
// near misses, TensorFlow.js names), and options of PyTorch / TensorFlow.js that wasmgrad knowingly lacks are
// said to be unsupported. Values are checked against a description of what they must be (a number in a range,
// an integer, a boolean, one of a set of names), and messages show the value as it was given:
//   SGD: unknown option 'weight_decay'; did you mean 'weightDecay'? (SGD's options: lr, momentum, …)
//   SGD: lr must be a number ≥ 0, got the string '0.1'
// An option set to undefined counts as not given, as in a destructuring default.

/** What a value must be, said in words ("a number ≥ 0"), and the test. */
export interface Check {
  what: string;
  ok(value: unknown): boolean;
  /** For a choice of names: the names, to suggest the one a misspelt value meant. */
  names?: readonly string[];
}

/** Options wasmgrad knowingly lacks, each with what to do instead. */
export type Unsupported = Readonly<Record<string, string>>;

/** How a value appears in a message: strings quoted (so '0.1' is not mistaken for 0.1), objects by their kind. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string': return `the string '${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
    case 'bigint': return `the BigInt ${value}n`;
    case 'object': case 'function': break;
    default: return String(value); // numbers, booleans, undefined, symbols
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const short = value.length <= 8 && value.every((v) => v === null || (typeof v !== 'object' && typeof v !== 'function'));
    return short ? `[${value.map((v) => (typeof v === 'string' ? `'${v}'` : typeof v === 'bigint' ? `${v}n` : String(v))).join(', ')}]`
      : `an array of length ${value.length}`;
  }
  if (isPlainObject(value)) return 'an object';
  // Modules are callable, so a function whose class is not Function is shown by its class too ('a Linear').
  const kind = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name || 'object';
  if (kind === 'Function') return 'a function';
  if (kind === 'AsyncFunction') return 'an async function';
  const article = /^[AEIOU]/.test(kind) ? 'an' : 'a';
  if (ArrayBuffer.isView(value) && 'length' in value) return `${article} ${kind} of length ${value.length as number}`;
  const shape = (value as { shape?: unknown }).shape;
  return `${article} ${kind}${Array.isArray(shape) ? ` of shape [${shape.join(',')}]` : ''}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Throws `api: name must be <what>, got <value>` unless the check passes. */
export function checkValue(api: string, name: string, value: unknown, check: Check): void {
  if (!check.ok(value)) throw new Error(`${api}: ${name} must be ${check.what}, got ${describe(value)}${didYouMean(value, check)}`);
}

/**
 * Throws unless `options` is undefined or a plain object whose names are all in `known`. An unsupported name
 * says so; any other unknown name gets the nearest known one as a suggestion, and the list of known names.
 */
export function checkKeys(api: string, options: unknown, known: readonly string[], unsupported: Unsupported = {}): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) {
    throw new Error(`${api}: options must be an object such as { ${known[0]}: … }, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const reason = unsupported[key] ?? unsupported[camelCase(key)];
    if (reason !== undefined) throw new Error(`${api}: option '${key}' is not supported (${reason})`);
    const guess = nearest(key, known);
    throw new Error(`${api}: unknown option '${key}'${guess ? `; did you mean '${guess}'?` : ''} ` +
      `(${api}'s options: ${known.join(', ')})`);
  }
}

/** checkKeys, then checkValue for every option that is given (not undefined). */
export function checkOptions(api: string, options: unknown, spec: Readonly<Record<string, Check>>, unsupported: Unsupported = {}): void {
  checkKeys(api, options, Object.keys(spec), unsupported);
  for (const [name, check] of Object.entries(spec)) {
    const value = (options as Record<string, unknown> | undefined)?.[name];
    if (value !== undefined) checkValue(api, name, value, check);
  }
}

/** The options that are given (not undefined): spread over defaults, they override only those. */
export function given<T extends object>(options: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---- checks of single values ----

/** Bounds of a number; ±Infinity passes only where the range includes it explicitly (le: Infinity). */
export interface Range { gt?: number; ge?: number; lt?: number; le?: number }

export function number(range: Range = {}): Check {
  const text = rangeText(range);
  return { what: text.startsWith(' in ') ? text.slice(1) : `a number${text}`, ok: (v) => typeof v === 'number' && inRange(v, range) };
}

export function integer(range: Range = {}): Check {
  const { gt, ge, lt, le } = range;
  const what = ge === 1 && gt === undefined && lt === undefined && le === undefined ? 'a positive integer'
    : ge !== undefined && le !== undefined ? `an integer from ${ge} to ${le}`
      : `an integer${rangeText(range)}`;
  return { what, ok: (v) => Number.isSafeInteger(v) && inRange(v as number, range) };
}

export const boolean: Check = { what: 'true or false', ok: (v) => typeof v === 'boolean' };

export const string: Check = { what: 'a string', ok: (v) => typeof v === 'string' };

/** Anything (for options checked elsewhere). */
export const any: Check = { what: 'anything', ok: () => true };

export function oneOf(...values: readonly string[]): Check {
  const quoted = values.map((v) => `'${v}'`);
  const what = quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}` : quoted.join('');
  return { what, ok: (v) => values.includes(v as string), names: values };
}

/** An instance of a class, named as users know it ('a Generator'). */
export function instanceOf(cls: abstract new (...args: never[]) => unknown, what = `a ${cls.name}`): Check {
  return { what, ok: (v) => v instanceof cls };
}

function inRange(v: number, { gt, ge, lt, le }: Range): boolean {
  if (Number.isNaN(v)) return false;
  if (!Number.isFinite(v) && !(v === Infinity && le === Infinity) && !(v === -Infinity && ge === -Infinity)) return false;
  return (gt === undefined || v > gt) && (ge === undefined || v >= ge) && (lt === undefined || v < lt) && (le === undefined || v <= le);
}

function rangeText({ gt, ge, lt, le }: Range): string {
  const lo = gt ?? ge;
  const hi = le === Infinity ? undefined : lt ?? le;
  const orInfinity = le === Infinity ? ' (or Infinity)' : '';
  if (lo !== undefined && hi !== undefined) {
    return ` in ${gt !== undefined ? '(' : '['}${lo}, ${hi}${lt !== undefined ? ')' : ']'}${orInfinity}`;
  }
  if (lo !== undefined) return ` ${gt !== undefined ? '>' : '≥'} ${lo}${orInfinity}`;
  if (hi !== undefined) return ` ${lt !== undefined ? '<' : '≤'} ${hi}`;
  return orInfinity;
}

// ---- suggestions ----

/** Names other libraries use for the same option (offered only where the API has the wasmgrad name). */
const ALIASES: Readonly<Record<string, string>> = {
  learningRate: 'lr', // TensorFlow.js, Keras
  epsilon: 'eps', // TensorFlow.js, Keras
  beta1: 'betas', // TensorFlow.js Adam
  beta2: 'betas',
  rho: 'alpha', // Keras RMSprop
  trainable: 'requiresGrad', // TensorFlow.js variables
  useBias: 'bias', // Keras, TensorFlow.js layers
  transposeA: 'transA', // TensorFlow.js matMul
  transposeB: 'transB',
  useNesterov: 'nesterov', // TensorFlow.js momentum optimizer
  numThreads: 'threads',
  attnMask: 'mask', // PyTorch's scaled_dot_product_attention
  isCausal: 'causal',
};

const camelCase = (s: string) => s.replace(/[_-]+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
/** Spelling-blind form: weight_decay, weightDecay and WeightDecay are all 'weightdecay'. */
const loose = (s: string) => s.replace(/[_\-\s]/g, '').toLowerCase();

/** The known name `key` most likely meant, or null: the same name spelled otherwise, an alias, or a near miss. */
function nearest(key: string, known: readonly string[]): string | null {
  const candidates: [spelling: string, name: string][] = [
    ...known.map((k): [string, string] => [k, k]),
    ...Object.entries(ALIASES).filter(([, k]) => known.includes(k)),
  ];
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const [spelling, name] of candidates) {
    const d = editDistance(loose(key), loose(spelling));
    if (d <= Math.max(1, Math.floor(loose(spelling).length / 3)) && d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** For a string that is not one of a set of names: the one it most likely meant ("; did you mean 'fanIn'?"). */
function didYouMean(value: unknown, check: Check): string {
  const guess = typeof value === 'string' && check.names ? nearest(value, check.names) : null;
  return guess ? `; did you mean '${guess}'?` : '';
}

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours ('dtpye' → 'dtype': 1). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
