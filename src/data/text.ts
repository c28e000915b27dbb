// Character-level text for sequence models: a vocabulary of a text's characters, text as int32 token ids and back,
// and a text cut into training windows of inputs and next-character targets. A text's lines are its samples: each
// one follows a newline, which is a token like any character, so a model learns where lines start and end.

/** The target that marks a padding position: cross-entropy skips it (PyTorch's default ignore_index). */
export const IGNORE_INDEX = -100;

/** A character as messages show it: 'a', or its code point for what would not print ('\n' is U+000A). */
export function showChar(c: string): string {
  const code = c.codePointAt(0)!;
  return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(c) ? `'${c}'` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The lines of a text. '\r\n' ends a line as '\n' does; a final newline ends the last line rather than starting
 * an empty one. Lines inside the text may be empty (a blank line between paragraphs is part of the text).
 */
export function splitLines(text: string): string[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Lines as one stream of text: each line after a newline, the last one ended by one. */
export function joinLines(lines: readonly string[]): string {
  return lines.length ? `\n${lines.join('\n')}\n` : '';
}

/**
 * A character-level tokenizer: token i is the i-th character of `vocab`. Characters are Unicode code points, so
 * a letter outside the Basic Multilingual Plane (an emoji) is one token, not two UTF-16 halves.
 */
export class CharTokenizer {
  /** The characters, in id order. */
  readonly vocab: readonly string[];
  private readonly ids: Map<string, number>;

  constructor(vocab: readonly string[]) {
    if (!Array.isArray(vocab) || vocab.length === 0 || !vocab.every((c) => typeof c === 'string' && [...c].length === 1)) {
      throw new Error('CharTokenizer: vocab must be a non-empty list of single characters');
    }
    this.vocab = Object.freeze([...vocab]);
    this.ids = new Map(vocab.map((c, i) => [c, i]));
    if (this.ids.size !== vocab.length) throw new Error('CharTokenizer: vocab lists a character more than once');
  }

  /** The distinct characters of `text` (and the newline that separates lines), in code-point order. */
  static fromText(text: string): CharTokenizer {
    const chars = [...new Set([...text, '\n'])];
    return new CharTokenizer(chars.sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  /** Number of distinct characters (the model's vocabulary size). */
  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Characters of `text` that are not in the vocabulary, each once, in order of appearance. */
  unknown(text: string): string[] {
    return [...new Set([...text].filter((c) => !this.ids.has(c)))];
  }

  /** The token ids of `text`; a character outside the vocabulary is an error naming every such character. */
  encode(text: string, api = 'CharTokenizer.encode'): Int32Array {
    const unknown = this.unknown(text);
    if (unknown.length) {
      throw new Error(`${api}: ${unknown.map(showChar).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the vocabulary ` +
        `(${this.vocab.map(showChar).join(' ')}): use only characters of the text the model was trained on`);
    }
    return Int32Array.from([...text], (c) => this.ids.get(c)!);
  }

  /** The text of token ids; an id outside the vocabulary is an error. */
  decode(ids: ArrayLike<number>): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const c = this.vocab[ids[i]!];
      if (c === undefined) throw new Error(`CharTokenizer.decode: token ${ids[i]} is out of range [0, ${this.vocabSize})`);
      text += c;
    }
    return text;
  }
}

/** Windows of token ids: `count` rows of `context` inputs and as many targets, row-major. */
export interface TokenWindows {
  /** count × context input ids. */
  inputs: Int32Array;
  /** count × context target ids: each input's next token. */
  targets: Int32Array;
  /** Number of windows. */
  count: number;
  /** Tokens per window. */
  context: number;
}

/**
 * A stream of token ids cut into windows of `context` tokens, for next-token prediction: window w takes the
 * tokens from w·context as inputs and the tokens one further on as targets. The last window is padded (inputs
 * with token 0, targets with IGNORE_INDEX), so every token but the first is a target exactly once and a loss
 * averaged over the windows is the loss per token of the whole stream.
 */
export function tokenWindows(ids: Int32Array, context: number): TokenWindows {
  const count = Math.ceil(Math.max(ids.length - 1, 0) / context);
  const inputs = new Int32Array(count * context);
  const targets = new Int32Array(count * context).fill(IGNORE_INDEX);
  inputs.set(ids.subarray(0, Math.max(ids.length - 1, 0)));
  targets.set(ids.subarray(1));
  return { inputs, targets, count, context };
}
