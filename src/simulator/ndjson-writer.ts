/**
 * Appends NDJSON lines straight into byte chunks. Writing pre-encoded fragments and ASCII pieces
 * directly avoids building each line as a JavaScript string and then encoding it, which dominated
 * the cost of generating events.
 */
export class NdjsonWriter {
  private chunk: Buffer;
  private used = 0;
  private lineStart = 0;

  /** `maxLineBytes` must bound every line written. */
  constructor(
    private readonly chunkBytes: number,
    private readonly maxLineBytes: number,
  ) {
    this.chunk = Buffer.allocUnsafe(chunkBytes + maxLineBytes);
  }

  /** Characters all below U+0080. */
  ascii(text: string): void {
    this.used += this.chunk.write(text, this.used);
  }

  /** Any text, UTF-8 encoded. */
  text(text: string): void {
    this.used += this.chunk.write(text, this.used);
  }

  bytes(bytes: Uint8Array): void {
    this.chunk.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Terminates the current line; returns a full chunk when one is ready to hand out. */
  endLine(): Buffer | undefined {
    this.chunk[this.used++] = 0x0a;
    if (this.used - this.lineStart > this.maxLineBytes) {
      throw new RangeError(`an NDJSON line exceeded ${this.maxLineBytes} bytes`);
    }
    this.lineStart = this.used;
    return this.used >= this.chunkBytes ? this.take() : undefined;
  }

  /** The bytes written so far (whole lines only), starting a new chunk. */
  take(): Buffer | undefined {
    if (this.lineStart === 0) return undefined;
    const full = this.chunk.subarray(0, this.lineStart);
    this.chunk = Buffer.allocUnsafe(this.chunkBytes + this.maxLineBytes);
    this.used = 0;
    this.lineStart = 0;
    return full;
  }
}
