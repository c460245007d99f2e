// The simulator's request log, as the tests read it.
import type { RequestLogEntry } from '../../src/simulator/index.ts';

/** Export requests in the log, as first hour, last hour (both inclusive), status and injected fault. */
export function exportsIn(requests: RequestLogEntry[]) {
  return requests
    .filter((r) => r.path === '/api/2/export' && r.exportHours)
    .map((r) => ({ start: r.exportHours!.start, end: r.exportHours!.end, status: r.status, fault: r.fault }));
}
