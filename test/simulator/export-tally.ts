const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = Buffer.from([0x50, 0x4b, 0x07, 0x08]);
/** A descriptor may straddle chunks, and the 4 bytes before it are the member's gzip ISIZE. */
const KEPT_TAIL = 24;

/**
 * Follows an export archive as it streams by, keeping a few bytes only, and totals its entries,
 * its bytes and the NDJSON bytes inside the gzip members (from their ISIZE trailers). Entries are
 * stored with data descriptors: an entry ends at the descriptor whose size field matches its length.
 */
export class ExportStreamTally {
  entries = 0;
  zipBytes = 0;
  ndjsonBytes = 0;
  private pending: Buffer = Buffer.alloc(0);
  private state: 'header' | 'data' | 'central directory' = 'header';
  /** bytes of the current entry's data already let go */
  private dataDropped = 0;
  private searchFrom = 0;

  push(chunk: Buffer): void {
    this.zipBytes += chunk.length;
    let buffer = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.state !== 'central directory') {
      if (this.state === 'header') {
        if (buffer.length < 30) break;
        if (buffer.readUInt32LE(0) !== LOCAL_HEADER) {
          this.state = 'central directory';
          break;
        }
        const headerLength = 30 + buffer.readUInt16LE(26) + buffer.readUInt16LE(28);
        if (buffer.length < headerLength) break;
        buffer = buffer.subarray(headerLength);
        this.state = 'data';
        this.dataDropped = 0;
        this.searchFrom = 0;
        continue;
      }
      const end = this.findDescriptor(buffer);
      if (end < 0) {
        const keep = Math.min(buffer.length, KEPT_TAIL);
        this.dataDropped += buffer.length - keep;
        buffer = buffer.subarray(buffer.length - keep);
        this.searchFrom = Math.max(0, keep - 16);
        break;
      }
      this.ndjsonBytes += buffer.readUInt32LE(end - 4);
      this.entries++;
      buffer = buffer.subarray(end + 16);
      this.state = 'header';
    }
    this.pending = this.state === 'central directory' ? Buffer.alloc(0) : Buffer.from(buffer);
  }

  private findDescriptor(buffer: Buffer): number {
    for (
      let at = buffer.indexOf(DATA_DESCRIPTOR, this.searchFrom);
      at >= 0 && at + 16 <= buffer.length;
      at = buffer.indexOf(DATA_DESCRIPTOR, at + 1)
    ) {
      if (buffer.readUInt32LE(at + 8) === this.dataDropped + at) return at;
    }
    return -1;
  }
}
