// A text's lines as training and validation data for a character model: the last `valSplit` of the lines are held
// out (a text's end, as nanoGPT holds out its last tenth; the embedded names are stored shuffled), each part is one
// stream of characters with a newline before every line, cut into windows of `context` characters whose targets
// are the next characters. The vocabulary is the whole text's characters.
import { fromValues } from '../creation.js';
import { TensorDataset } from '../data/dataset.js';
import { CharTokenizer, joinLines, tokenWindows } from '../data/text.js';
import type { TrainData } from './trainer.js';

export interface TextOptions {
  /** Characters per window: the model's context. */
  context: number;
  /** The share of the lines held out for validation (default 0.1). */
  valSplit?: number;
  /** Names the text in messages ('names', a file's path). */
  name?: string;
}

export interface TextData extends TrainData {
  tokenizer: CharTokenizer;
  /** Lines and characters (newlines included) of each part. */
  lines: { train: number; val: number };
  characters: { train: number; val: number };
}

export function textData(lines: readonly string[], o: TextOptions): TextData {
  const { context, valSplit = 0.1, name = 'the text' } = o;
  if (lines.every((l) => l.trim() === '')) throw new Error(`text: ${name} is empty; it needs lines of text to learn from`);
  const nVal = Math.round(lines.length * valSplit);
  if (nVal < 1 || nVal >= lines.length) {
    throw new Error(`text: ${name} has ${lines.length} line${lines.length === 1 ? '' : 's'}, too few to hold out ${valSplit} of them for ` +
      'validation and train on the rest; lines are the samples: give more lines, or change --val-split');
  }
  const train = joinLines(lines.slice(0, lines.length - nVal));
  const val = joinLines(lines.slice(lines.length - nVal));
  const tokenizer = CharTokenizer.fromText(train + val);
  const dataset = (text: string) => {
    const w = tokenWindows(tokenizer.encode(text), context);
    return new TensorDataset(fromValues(w.inputs, [w.count, context], { dtype: 'int32' }), fromValues(w.targets, [w.count, context], { dtype: 'int32' }));
  };
  const trainSet = dataset(train);
  let valSet: TensorDataset;
  try {
    valSet = dataset(val);
  } catch (e) {
    trainSet.dispose();
    throw e;
  }
  return {
    info: { kind: 'text', task: 'classification', inputDim: context, outputDim: tokenizer.vocabSize, classes: [...tokenizer.vocab] },
    train: trainSet, test: valSet, tokenizer,
    lines: { train: lines.length - nVal, val: nVal },
    characters: { train: [...train].length, val: [...val].length },
  };
}
