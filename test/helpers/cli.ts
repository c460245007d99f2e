// Running the amplitude-sync command as a user does: a separate process, its own environment.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Simulator } from '../../src/simulator/index.ts';

const BIN = new URL('../../bin/amplitude-sync.js', import.meta.url).pathname;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the command without TEMPORAL_ADDRESS unless `env` gives one. */
export function start(args: string[], env: NodeJS.ProcessEnv, cwd: string): ChildProcess & { output: Run } {
  const clean = { ...process.env };
  delete clean.TEMPORAL_ADDRESS;
  const child = spawn(process.execPath, ['--max-semi-space-size=1', BIN, ...args], {
    cwd,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { output: Run };
  child.output = { code: null, stdout: '', stderr: '' };
  // Decoded across chunks: a pipe can split a character's UTF-8 bytes between two of them.
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk) => {
    child.output.stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    child.output.stderr += chunk;
  });
  return child;
}

export async function finished(child: ChildProcess & { output: Run }): Promise<Run> {
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => child.on('close', resolve));
  }
  child.output.code = child.exitCode;
  return child.output;
}

export async function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  return finished(start(args, env, cwd));
}

/** Resolves once the command has printed `pattern` on stderr. */
export async function waitForStderr(child: ChildProcess & { output: Run }, pattern: RegExp): Promise<void> {
  while (!pattern.test(child.output.stderr)) {
    if (child.exitCode !== null)
      throw new Error(`the command ended before printing ${pattern}:\n${child.output.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stack-trace lines: what a person must not see on the terminal for an error we understand. */
export function stackLines(text: string): string[] {
  return text.split('\n').filter((line) => /^\s+at\s.*:\d+:\d+\)?$/.test(line));
}

/**
 * Writes `<dir>/<name>`: a connection to the simulator's standard region from `dataStart`, output in
 * `<dir>/<name>.out`, with `fields` added or replacing those.
 */
export async function writeConnectionFile(
  dir: string,
  name: string,
  sim: Simulator,
  dataStart: number,
  fields: Record<string, unknown> = {},
): Promise<string> {
  const path = join(dir, name);
  await writeFile(
    path,
    JSON.stringify({
      start_date: new Date(dataStart).toISOString().replace(/\.\d+Z$/, 'Z'),
      base_url: sim.urls.standard,
      destination: { path: join(dir, `${name}.out`) },
      ...fields,
    }),
  );
  return path;
}

/**
 * Resolves once `count` distinct workers poll the task queue for activities (each started worker
 * process is one), so that work spreads over all of them; fails if one of `workers` exits first.
 */
export async function waitForActivityPollers(
  client: Client,
  taskQueue: string,
  workers: ReadonlyArray<ChildProcess & { output: Run }>,
  count = workers.length,
): Promise<void> {
  for (;;) {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: taskQueue },
      taskQueueType: 2, // activities
    });
    if (new Set((pollers ?? []).map((poller) => poller.identity)).size >= count) return;
    for (const worker of workers) {
      if (worker.exitCode !== null) throw new Error(`a worker exited: ${worker.output.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
