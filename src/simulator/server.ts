import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { checkBasicAuth } from './auth.ts';
import { DashboardData } from './dashboard-data.ts';
import {
  ConcurrencyGate,
  concurrencyLimitResponse,
  type DashboardContext,
  type DashboardEndpoint,
  decideDashboard,
} from './dashboard-endpoints.ts';
import { EventLineGenerator } from './event-lines.ts';
import { EventTotals } from './event-totals.ts';
import { EventVolume } from './event-volume.ts';
import { ExportCache } from './export-cache.ts';
import {
  corruptGzip,
  decideExport,
  type ExportContext,
  exportEntries,
  membersInFirstHours,
  tooLargeMessage,
} from './export-endpoint.ts';
import { GZIP_LEVEL } from './export-members.ts';
import { type Endpoint, type FaultInjector, FaultQueue, type FaultRule, isStatusFault } from './faults.ts';
import { createGroundTruth, type GroundTruth } from './ground-truth.ts';
import {
  errorEnvelope,
  GATEWAY_TIMEOUT_PAGE,
  NON_ZIP_PAGE,
  pumpBody,
  RAW_DATA_NOT_FOUND,
  sendHtml,
  sendJson,
  sendText,
  untilClosed,
} from './http-responses.ts';
import { type Region, resolveOptions, type SimulatorOptions } from './options.ts';
import { type ZipStreamOptions, zipStream } from './zip-stream.ts';

export interface RequestLogEntry {
  region: Region;
  method: string;
  path: string;
  query: Record<string, string>;
  /** 0 until the response status is decided */
  status: number;
  /** the simulated clock at arrival */
  at: number;
  /** parsed export range: ms of the first and last hour */
  exportHours?: { start: number; end: number };
  /** the kind of the injected fault that shaped this response */
  fault?: string;
}

export interface Simulator {
  /** Base URLs without trailing slash, one listener per region. */
  urls: { standard: string; eu: string };
  now(): number;
  setNow(ms: number): void;
  advance(ms: number): void;
  faults: FaultInjector;
  /** Every request, in arrival order. */
  requests: RequestLogEntry[];
  groundTruth: GroundTruth;
  /** The most concurrent Dashboard requests each project (region) was asked so far, refused ones included. */
  dashboardPeak(region: Region): number;
  close(): Promise<void>;
}

const ROUTES = new Map<string, Endpoint>([
  ['/api/2/export', 'export'],
  ['/api/2/users', 'users'],
  ['/api/2/sessions/average', 'sessions'],
  ['/api/2/events/segmentation', 'segmentation'],
  ['/api/2/annotations', 'annotations'],
  ['/api/3/cohorts', 'cohorts'],
  ['/api/2/events/list', 'events_list'],
]);

/** Body bytes sent before a `truncated` or `short_body` fault cuts the body, unless the rule says otherwise. */
const DEFAULT_CUT_BYTES = 1024;

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const settings = resolveOptions(options);
  let clock = options.now ?? Date.now();
  const requests: RequestLogEntry[] = [];
  const faults = new FaultQueue();
  const volume = new EventVolume(settings);
  const generator = new EventLineGenerator(settings.seedHash, settings.projectId);
  const dashboard = new DashboardData(settings);
  const exportContext: ExportContext = {
    volume,
    generator,
    projectId: settings.projectId,
    exportSizeLimitBytes: settings.exportSizeLimitBytes,
    nominalEventBytes: settings.nominalEventBytes,
    cache: settings.exportCacheDir
      ? new ExportCache(settings.exportCacheDir, {
          seed: settings.seed,
          projectId: settings.projectId,
          eventsPerPartition: settings.eventsPerPartition,
          firstPartitionIndex: settings.firstPartitionIndex,
          gzipLevel: GZIP_LEVEL,
        })
      : undefined,
  };
  const eventTotals = new EventTotals(volume, generator, settings);
  const dashboardContext: DashboardContext = {
    data: dashboard,
    eventTotals,
    countryGrouping: settings.countryGrouping,
  };
  // Each region's key pair belongs to its own project, so each listener has its own gate.
  const gates: Record<Region, ConcurrencyGate> = {
    standard: new ConcurrencyGate(settings.dashboardConcurrency),
    eu: new ConcurrencyGate(settings.dashboardConcurrency),
  };

  async function serveBody(
    res: ServerResponse,
    body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    fault: FaultRule | undefined,
  ) {
    switch (fault?.kind) {
      case 'truncated':
        await pumpBody(res, body, fault.afterBytes ?? DEFAULT_CUT_BYTES);
        res.destroy();
        return;
      case 'short_body':
        await pumpBody(res, body, fault.afterBytes ?? DEFAULT_CUT_BYTES);
        res.end();
        return;
      case 'stall':
        res.flushHeaders();
        if (fault.afterBytes !== undefined || fault.afterHours !== undefined) {
          await pumpBody(res, body, fault.afterBytes);
        }
        await untilClosed(res);
        return;
      default:
        if ((await pumpBody(res, body)) === 'complete') res.end();
    }
  }

  function sendStatusFault(
    res: ServerResponse,
    endpoint: Endpoint,
    fault: FaultRule,
    entry: RequestLogEntry,
  ) {
    const isExport = endpoint === 'export';
    switch (fault.kind) {
      case 'rate_limit': {
        entry.status = 429;
        const headers: Record<string, string> =
          fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
        if (isExport)
          return sendText(res, 429, 'Too many requests. Please slow down and retry later.', headers);
        return sendJson(
          res,
          429,
          errorEnvelope(429, 'rate_limit', 'Too many requests', 'Exceeded the rate limit for this project'),
          headers,
        );
      }
      case 'server_error': {
        const status = fault.status ?? 500;
        entry.status = status;
        if (isExport) return sendText(res, status, 'Internal Server Error');
        return sendJson(
          res,
          status,
          errorEnvelope(status, 'internal', 'Internal server error', 'Please retry later'),
        );
      }
      case 'gateway_timeout':
        entry.status = 504;
        return sendHtml(res, 504, GATEWAY_TIMEOUT_PAGE);
      case 'too_large':
        entry.status = 400;
        return sendText(res, 400, tooLargeMessage());
      case 'reset':
        res.socket?.destroy();
        return;
      case 'not_found':
        entry.status = 404;
        if (isExport) return sendText(res, 404, RAW_DATA_NOT_FOUND);
        return sendJson(res, 404, errorEnvelope(404, 'not_found', 'Not found', 'No data'));
      default:
        entry.status = 200;
        return sendHtml(res, 200, NON_ZIP_PAGE);
    }
  }

  async function handleExport(res: ServerResponse, query: Record<string, string>, entry: RequestLogEntry) {
    const outcome = decideExport(query, exportContext, clock);
    if (outcome.hours) entry.exportHours = outcome.hours;
    const fault = faults.take(
      {
        endpoint: 'export',
        exportHours: outcome.hours,
        successful: outcome.status === 200,
      },
      clock,
    );
    if (fault) entry.fault = fault.kind;
    if (fault && isStatusFault(fault.kind)) return sendStatusFault(res, 'export', fault, entry);
    entry.status = outcome.status;
    if (outcome.status !== 200) return sendText(res, outcome.status, outcome.text);

    const zipOptions: ZipStreamOptions = {};
    if (fault?.kind === 'corrupt_member') {
      zipOptions.transformEntry = (index, bytes) => (index === 0 ? corruptGzip(bytes) : bytes);
    }
    if (fault?.kind === 'stall' && fault.afterHours !== undefined) {
      zipOptions.stopAfterEntries = membersInFirstHours(outcome.members, fault.afterHours);
    }
    res.writeHead(200, { 'Content-Type': 'application/zip' });
    await serveBody(res, zipStream(exportEntries(outcome.members, exportContext), zipOptions), fault);
  }

  async function handleDashboard(
    region: Region,
    endpoint: DashboardEndpoint,
    res: ServerResponse,
    query: Record<string, string>,
    entry: RequestLogEntry,
  ) {
    const gate = gates[region];
    const release = gate.tryAcquire();
    const decided = release
      ? decideDashboard(endpoint, query, dashboardContext, clock)
      : concurrencyLimitResponse(gate.limit);
    const fault = faults.take({ endpoint, successful: decided.status === 200 }, clock);
    if (fault) entry.fault = fault.kind;
    if (fault && isStatusFault(fault.kind)) {
      release?.();
      return sendStatusFault(res, endpoint, fault, entry);
    }
    if (!release) {
      entry.status = decided.status;
      return sendJson(res, decided.status, decided.body);
    }
    res.once('close', release);
    await delay(settings.dashboardLatencyMs);
    if (res.destroyed) return;
    entry.status = decided.status;
    if (!fault) return sendJson(res, decided.status, decided.body);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    await serveBody(res, [Buffer.from(JSON.stringify(decided.body))], fault);
  }

  async function handle(region: Region, req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const entry: RequestLogEntry = {
      region,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      at: clock,
    };
    requests.push(entry);

    const endpoint = ROUTES.get(url.pathname);
    if (!endpoint) {
      entry.status = 404;
      return sendJson(
        res,
        404,
        errorEnvelope(404, 'not_found', 'Not found', `No endpoint at ${url.pathname}`),
      );
    }
    if (req.method !== 'GET') {
      entry.status = 405;
      return sendJson(
        res,
        405,
        errorEnvelope(405, 'method_not_allowed', 'Method not allowed', `${req.method} ${url.pathname}`),
        { Allow: 'GET' },
      );
    }
    const auth = checkBasicAuth(req.headers.authorization, settings.credentials[region]);
    if (auth === 'missing') {
      entry.status = 401;
      return sendText(
        res,
        401,
        'Missing or malformed Authorization header: use HTTP Basic with api_key:secret_key',
        {
          'WWW-Authenticate': 'Basic realm="Amplitude"',
        },
      );
    }
    if (auth === 'invalid') {
      entry.status = 403;
      return sendText(res, 403, 'Invalid API Key');
    }
    if (endpoint === 'export') return handleExport(res, entry.query, entry);
    return handleDashboard(region, endpoint, res, entry.query, entry);
  }

  function listener(region: Region) {
    return (req: IncomingMessage, res: ServerResponse) => {
      handle(region, req, res).catch((error: unknown) => {
        if (res.headersSent) {
          res.destroy(error instanceof Error ? error : undefined);
        } else {
          sendJson(res, 500, errorEnvelope(500, 'internal', 'Simulator failure', String(error)));
        }
      });
    };
  }

  const servers: Record<Region, Server> = {
    standard: createServer(listener('standard')),
    eu: createServer(listener('eu')),
  };
  let closing: Promise<void> | undefined;
  const urls = {
    standard: await listen(servers.standard, settings.ports.standard),
    eu: await listen(servers.eu, settings.ports.eu),
  };

  return {
    urls,
    now: () => clock,
    setNow(ms) {
      clock = ms;
    },
    advance(ms) {
      clock += ms;
    },
    faults,
    requests,
    groundTruth: createGroundTruth({ volume, generator, dashboard, eventTotals, now: () => clock }),
    dashboardPeak: (region) => gates[region].peak,
    close() {
      closing ??= Promise.all(Object.values(servers).map(closeServer)).then(() => {});
      return closing;
    },
  };
}

function listen(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const { port: bound } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${bound}`);
    });
  });
}

/** Stops listening and destroys every connection, stalled responses included. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
