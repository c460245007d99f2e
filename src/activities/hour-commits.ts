// Commits the hours of an export as the archive moves past them, while the download goes on: publishing
// an hour (a rename, an upload, a COPY) overlaps the decoding of the next ones. The committed boundary
// advances only in order, once every hour before it is in place and its receipt written, so that a
// retry resumes exactly there.
import type { Destination, HourWriter, PartitionWritten } from '../destination/destination.ts';

/** Boundaries whose hours are being published at once; beyond this the download waits. */
const PUBLISHING = 2;

export interface HourWritten extends PartitionWritten {
  hour: number;
}

export class HourCommits {
  /** Hours before this were handed to the writer to publish. */
  #scheduledBefore: number;
  /** One per batch not waited for yet: settled in order, each as soon as its hours are published. */
  readonly #settled: Array<Promise<void>> = [];

  /**
   * @param committed called each time the committed boundary advances, with the hours published
   *   before it (after their receipt was written)
   */
  constructor(
    private readonly writer: HourWriter,
    private readonly destination: Destination,
    private readonly receipt: { runKey: string; slice(from: number, boundary: number): string },
    committedBefore: number,
    private readonly committed: (boundary: number, written: HourWritten[]) => void,
  ) {
    this.#scheduledBefore = committedBefore;
  }

  /** Hours before this may not be written any more: they are (being) published. */
  get scheduledBefore(): number {
    return this.#scheduledBefore;
  }

  /** Publishes every pending hour before `boundary`; waits only when too many are under way. */
  async commitBefore(boundary: number): Promise<void> {
    if (boundary <= this.#scheduledBefore) return;
    const hours = this.writer.pendingHours().filter((hour) => hour < boundary);
    const done = Promise.all(
      hours.map(async (hour) => {
        const partition = await this.writer.commit(hour);
        return partition ? { ...partition, hour } : undefined;
      }),
    ).then((written) => written.filter((partition): partition is HourWritten => partition !== undefined));
    done.catch(() => {}); // awaited in order below
    const from = this.#scheduledBefore;
    this.#scheduledBefore = boundary;
    const previous = this.#settled.at(-1) ?? Promise.resolve();
    const settled = previous.then(async () => this.#settle(from, boundary, await done));
    // A failure surfaces at the next wait or at finish(); it must not go unhandled meanwhile.
    settled.catch(() => {});
    this.#settled.push(settled);
    while (this.#settled.length > PUBLISHING) await this.#settled.shift();
  }

  /** Waits for everything under way; the committed boundary is then where it was scheduled. */
  async finish(): Promise<void> {
    while (this.#settled.length > 0) await this.#settled.shift();
  }

  /** Lets what is under way end (it may fail) before the writer is aborted. */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.#settled.splice(0));
  }

  // Order matters for exact resume: partitions in place, then their receipt, then the boundary.
  async #settle(from: number, boundary: number, written: HourWritten[]): Promise<void> {
    if (written.length > 0) {
      await this.destination.writeReceipt(this.receipt.runKey, {
        stream: 'events',
        slice: this.receipt.slice(from, boundary),
        partitions: written.map(({ hour: _hour, ...partition }) => partition),
      });
    }
    this.committed(boundary, written);
  }
}
