// Runs a stream's slices as activities with bounded concurrency, in workflow code. Deterministic: the
// only inputs are activity outcomes, delivered in history order.
import { condition } from '@temporalio/workflow';
import { mergeSpans, type Span } from './plan.ts';

export type SliceOutcome =
  | { kind: 'done' }
  /** Run these smaller slices instead, first. */
  | { kind: 'split'; parts: Span[] }
  | { kind: 'failed'; failure: Error };

export interface SliceRun {
  pending: Span[];
  completed: Span[];
  failures: Array<{ span: Span; failure: Error }>;
  /** True when the run stopped early because `shouldPause` asked it to (continue-as-new). */
  paused: boolean;
}

export interface SliceRunnerOptions {
  pending: Span[];
  completed: Span[];
  concurrency: number;
  run(span: Span): Promise<SliceOutcome>;
  /** Checked before each new slice; true stops starting slices and lets the running ones finish. */
  shouldPause(): boolean;
  /** Called after every change, with the live state (pending = not started yet). */
  onProgress?(state: Readonly<SliceRun>): void;
}

export async function runSlices(options: SliceRunnerOptions): Promise<SliceRun> {
  const queue = [...options.pending];
  const state: SliceRun = {
    pending: queue,
    completed: mergeSpans(options.completed),
    failures: [],
    paused: false,
  };
  let inFlight = 0;
  let settled = 0;

  const start = (span: Span) => {
    inFlight++;
    void options.run(span).then(
      (outcome) => {
        if (outcome.kind === 'done') state.completed = mergeSpans([...state.completed, span]);
        else if (outcome.kind === 'split') queue.unshift(...outcome.parts);
        else state.failures.push({ span, failure: outcome.failure });
        inFlight--;
        settled++;
        options.onProgress?.(state);
      },
      (failure: Error) => {
        state.failures.push({ span, failure });
        inFlight--;
        settled++;
        options.onProgress?.(state);
      },
    );
  };

  for (;;) {
    while (
      queue.length > 0 &&
      inFlight < options.concurrency &&
      state.failures.length === 0 &&
      !state.paused
    ) {
      if (options.shouldPause()) {
        state.paused = true;
        break;
      }
      start(queue.shift()!);
    }
    const stopStarting = queue.length === 0 || state.failures.length > 0 || state.paused;
    if (inFlight === 0 && stopStarting) break;
    const seen = settled;
    await condition(() => settled > seen);
  }
  return state;
}
