// Memory handed back once used (by a thread, after a write), kept for the next buffer that fits in it.
export class SpareBuffers {
  readonly #spares: ArrayBuffer[] = [];
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Keeps `memory` for reuse, unless `max` spares are already kept. */
  give(memory: ArrayBuffer): void {
    if (this.#spares.length < this.#max) this.#spares.push(memory);
  }

  /** A spare of at least `bytes`, or new memory of `size` (uninitialised, never Node's shared pool). */
  take(bytes: number, size = bytes): ArrayBuffer {
    const index = this.#spares.findIndex((memory) => memory.byteLength >= bytes);
    if (index !== -1) return this.#spares.splice(index, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.max(bytes, size)).buffer as ArrayBuffer;
  }
}
