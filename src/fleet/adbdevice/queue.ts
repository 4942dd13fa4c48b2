/** Bytes arriving in chunks, read back in the sizes a reader asks for; end() lets readers see the end. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private waiting?: () => void;

  get isEnded(): boolean {
    return this.ended;
  }

  push(data: Buffer): void {
    if (this.ended || data.length === 0) return;
    this.chunks.push(data);
    this.buffered += data.length;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!ready() && !this.ended) await new Promise<void>((resolve) => (this.waiting = resolve));
  }

  /** The next bytes, whatever their length; undefined at the end. */
  async readSome(): Promise<Buffer | undefined> {
    await this.until(() => this.buffered > 0);
    if (this.buffered === 0) return undefined;
    const chunk = this.chunks.shift()!;
    this.buffered -= chunk.length;
    return chunk;
  }

  /** Exactly `n` bytes; undefined when the end comes before they do. */
  async read(n: number): Promise<Buffer | undefined> {
    await this.until(() => this.buffered >= n);
    if (this.buffered < n) return undefined;
    const out = Buffer.alloc(n);
    let at = 0;
    while (at < n) {
      const chunk = this.chunks[0]!;
      const take = Math.min(chunk.length, n - at);
      chunk.copy(out, at, 0, take);
      at += take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
    this.buffered -= n;
    return out;
  }
}
