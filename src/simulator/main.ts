// Standalone simulator:
//   node --import tsx src/simulator/main.ts --port 8787 --days 3 --events-per-hour 200 --seed x
// The standard listener takes --port, the EU listener --eu-port (default: --port + 1, or ephemeral).

import { parseArgs } from 'node:util';
import { DAY_MS, floorToDay } from '../amplitude/time.ts';
import { DEFAULT_CREDENTIALS, startSimulator } from './index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'eu-port': { type: 'string' },
    days: { type: 'string', default: '3' },
    'events-per-hour': { type: 'string' },
    seed: { type: 'string', default: 'amplitude-sync' },
    'project-id': { type: 'string' },
    'cache-dir': { type: 'string' },
  },
});

function integerOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    console.error(`--${name} must be a non-negative integer, got '${value}'`);
    process.exit(2);
  }
  return parsed;
}

const port = integerOption('port', values.port) ?? 0;
const euPort = integerOption('eu-port', values['eu-port']) ?? (port === 0 ? 0 : port + 1);
const days = integerOption('days', values.days) ?? 3;
const now = Date.now();

const simulator = await startSimulator({
  seed: values.seed,
  projectId: integerOption('project-id', values['project-id']),
  dataStart: floorToDay(now) - days * DAY_MS,
  now,
  eventsPerHour: integerOption('events-per-hour', values['events-per-hour']),
  exportCacheDir: values['cache-dir'],
  ports: { standard: port, eu: euPort },
});

// The simulated clock follows the wall clock, so new hours become exportable as time passes.
const startedAt = Date.now();
const ticker = setInterval(() => simulator.setNow(now + (Date.now() - startedAt)), 1000);

console.log(`Amplitude API simulator (seed '${values.seed}', data since ${days} day(s) ago)`);
console.log(
  `  standard: ${simulator.urls.standard}  api_key=${DEFAULT_CREDENTIALS.standard.apiKey} secret_key=${DEFAULT_CREDENTIALS.standard.secretKey}`,
);
console.log(
  `  eu:       ${simulator.urls.eu}  api_key=${DEFAULT_CREDENTIALS.eu.apiKey} secret_key=${DEFAULT_CREDENTIALS.eu.secretKey}`,
);
console.log('Press Ctrl+C to stop.');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(ticker);
    simulator.close().then(() => process.exit(0));
  });
}
