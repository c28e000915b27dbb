// Two-phase loading, shared by every object whose state can be restored (Module, Optimizer, the schedulers,
// Generator, and the trainer behind the CLI): `stage...(state)` validates everything and prepares the change
// (it may throw, and then nothing observable has changed); the returned `commit()` applies it with code that
// cannot fail, `abort()` releases what staging prepared. Loading several objects at once (a checkpoint) stages
// them all before committing any, so a state that does not fit anywhere changes nothing anywhere.

export interface Staged {
  /** Applies the staged change. Cannot fail. Call commit() or abort(), once. */
  commit(): void;
  /** Releases what staging prepared (for example new optimizer buffers); the object keeps its old state. */
  abort(): void;
}

/** An object whose state can be saved and restored all-or-nothing (schedulers; checkpoints take one). */
export interface Stateful {
  stateDict(): object;
  stageStateDict(state: unknown): Staged;
}

/** A Staged whose commit is `commit` and which holds nothing to release. */
export function staged(commit: () => void): Staged {
  return { commit, abort: () => {} };
}

/**
 * Stages each in turn; if one throws, aborts those already staged and rethrows. The result commits all of them
 * (in order) or aborts all of them.
 */
export function stageAll(stagers: readonly (() => Staged)[]): Staged {
  const done: Staged[] = [];
  const abortAll = () => {
    for (const s of done.slice().reverse()) s.abort();
  };
  try {
    for (const stage of stagers) done.push(stage());
  } catch (e) {
    abortAll();
    throw e;
  }
  return {
    commit: () => {
      for (const s of done) s.commit();
    },
    abort: abortAll,
  };
}
