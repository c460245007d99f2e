/** At most `max` calls run at once; the others wait their turn in order. */
export class ConcurrencyLimit {
  #active = 0;
  #waiting: Array<() => void> = [];
  peak = 0;

  constructor(readonly max: number) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    this.peak = Math.max(this.peak, this.#active);
    try {
      return await call();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}
