// Out-of-memory errors of every backend. A backend can say what it holds and what it was asked for; who holds the
// memory (how many tensors are alive and which ops made them) is known only to the autograd layer above, which
// registers a report here, since the backend layer must not import it.

export class OutOfMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutOfMemoryError';
  }
}

let holders: () => string = () => '';

/** Called once by the autograd layer: a sentence about the live tensors, added to every out-of-memory message. */
export function setHoldersReport(report: () => string): void {
  holders = report;
}

/** An OutOfMemoryError: the backend's message, then who holds the memory. */
export function outOfMemory(message: string): OutOfMemoryError {
  const who = holders();
  return new OutOfMemoryError(who ? `${message}. ${who}` : message);
}

export const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);
