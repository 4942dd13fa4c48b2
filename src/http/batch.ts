/**
 * Answers written together once the event loop has run the I/O callbacks of its turn (at
 * setImmediate), rather than each one as soon as it is ready; what follows an answer (its request
 * line) runs once all of them are written.
 *
 * Writing an answer wakes the client that waits for it, and over loopback the wake-up is paid inside
 * the server's write call. A busy server that writes each answer on its own wakes its clients once per
 * answer; written back to back, the first answer wakes a client and the rest find it awake. In the
 * benchmark this took about a sixth off the server's CPU per ListJobs, and lowered p50 and p99.
 * An answer waits at most for the other calls read in the same turn; a lone call waits for nothing.
 */
export class AnswerBatch {
  private pending: (() => void)[] = [];
  private after: (() => void)[] = [];

  /**
   * `onError`: a write that threw (the writes handle their own failures; this is a last guard, so
   * that one write cannot keep the others in the batch from going out).
   * `schedule`: when the batch goes out; tests hold it back to see what waits in it.
   */
  constructor(
    private readonly onError: (err: unknown) => void,
    private readonly schedule: (flush: () => void) => void = setImmediate,
  ) {}

  /**
   * `write` runs with the rest of this turn's answers, in the order they were added; `then`, if
   * given, after every answer of the batch is written.
   */
  add(write: () => void, then?: () => void): void {
    if (then) this.after.push(then);
    if (this.pending.push(write) === 1) this.schedule(() => this.flush());
  }

  /** Write everything added so far; what a write adds goes out with the next batch. */
  flush(): void {
    const batch = this.pending;
    const after = this.after;
    this.pending = [];
    this.after = [];
    for (const run of batch) this.guarded(run);
    for (const run of after) this.guarded(run);
  }

  private guarded(run: () => void): void {
    try {
      run();
    } catch (err) {
      try {
        this.onError(err);
      } catch {
        // Reporting failed too (the log is gone); the rest of the batch still goes out.
      }
    }
  }
}
