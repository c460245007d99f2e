// What the Temporal SDK says, as people read it on a terminal: one line each, our messages first. The
// whole detail (stack traces, failure chains) stays in the Temporal UI, and on the terminal with
// --verbose.
import { DefaultLogger, type LogEntry, Runtime } from '@temporalio/worker';

let installed = false;

function metrics(address: string | undefined) {
  return address ? { metrics: { prometheus: { bindAddress: address, countersTotalSuffix: true } } } : {};
}

function oneLine(entry: LogEntry): string {
  const meta = (entry.meta ?? {}) as {
    error?: { message?: string };
    activityType?: string;
    workflowId?: string;
  };
  const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const where = [meta.workflowId, meta.activityType].filter(Boolean).join(' ');
  const cause = meta.error?.message ? `: ${meta.error.message}` : '';
  return `${at} [${entry.level}] ${entry.message}${cause}${where ? ` (${where})` : ''}`;
}

export interface LoggingOptions {
  verbose: boolean;
  service: boolean;
  /** host:port of a Prometheus endpoint for the SDK's metrics and ours (`/metrics`). */
  metricsAddress?: string;
}

/**
 * A one-shot command prints warnings and errors one line each, without the activity failures that its
 * retry lines already report; a service (the worker) prints its activity at INFO, one line each;
 * --verbose prints everything as the SDK formats it.
 */
export function installLogging(options: LoggingOptions): void {
  if (installed) return;
  installed = true;
  // A one-shot command handles Ctrl-C itself (it cancels its sync through Temporal, then stops its
  // worker); the worker service lets the SDK shut down gracefully on the usual signals.
  const shutdownSignals: NodeJS.Signals[] = options.service
    ? ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2']
    : [];
  if (options.verbose) {
    Runtime.install({
      logger: new DefaultLogger('DEBUG'),
      shutdownSignals,
      telemetryOptions: {
        logging: { filter: { core: 'INFO', other: 'WARN' } },
        ...metrics(options.metricsAddress),
      },
    });
    return;
  }
  const print = (entry: LogEntry) => {
    // A one-shot command reports retries and the outcome itself.
    if (!options.service && (entry.message === 'Activity failed' || entry.message === 'Workflow failed'))
      return;
    console.error(oneLine(entry));
  };
  Runtime.install({
    logger: new DefaultLogger(options.service ? 'INFO' : 'WARN', print),
    shutdownSignals,
    // Not forwarded: the SDK's forwarding keeps the process alive after the command is done.
    telemetryOptions: {
      logging: { filter: { core: 'ERROR', other: 'ERROR' } },
      ...metrics(options.metricsAddress),
    },
  });
}
