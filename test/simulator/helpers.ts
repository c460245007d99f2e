import { gunzipSync, strFromU8, unzipSync } from 'fflate';
import { request } from 'undici';
import { DAY_MS, exportHourParam, HOUR_MS } from '../../src/amplitude/time.ts';
import {
  DEFAULT_CREDENTIALS,
  type Region,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../src/simulator/index.ts';

/** Friday 2024-03-01 00:00 UTC: the first hour with data in every test. */
export const DATA_START = Date.UTC(2024, 2, 1);
/** Three days of data, all of it exportable. */
export const THREE_DAYS_LATER = DATA_START + 3 * DAY_MS;

export { DAY_MS, HOUR_MS };

export function hour(dayOffset: number, hourOfDay: number): number {
  return DATA_START + dayOffset * DAY_MS + hourOfDay * HOUR_MS;
}

export function basicAuth(apiKey: string, secretKey: string): string {
  return `Basic ${Buffer.from(`${apiKey}:${secretKey}`).toString('base64')}`;
}

export const STANDARD_AUTH = basicAuth(
  DEFAULT_CREDENTIALS.standard.apiKey,
  DEFAULT_CREDENTIALS.standard.secretKey,
);
export const EU_AUTH = basicAuth(DEFAULT_CREDENTIALS.eu.apiKey, DEFAULT_CREDENTIALS.eu.secretKey);

export function simulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  return startSimulator({ dataStart: DATA_START, now: THREE_DAYS_LATER, ...options });
}

export interface Fetched {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

export async function get(
  sim: Simulator,
  pathAndQuery: string,
  options: { region?: Region; authorization?: string | null } = {},
): Promise<Fetched> {
  const region = options.region ?? 'standard';
  const authorization =
    options.authorization === undefined ? (region === 'eu' ? EU_AUTH : STANDARD_AUTH) : options.authorization;
  const response = await request(`${sim.urls[region]}${pathAndQuery}`, {
    headers: authorization === null ? {} : { authorization },
  });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body, text: body.toString('utf8') };
}

export function exportPath(firstHour: number, lastHour: number): string {
  return `/api/2/export?start=${exportHourParam(firstHour)}&end=${exportHourParam(lastHour)}`;
}

export async function getJson(sim: Simulator, pathAndQuery: string) {
  const response = await get(sim, pathAndQuery);
  return { status: response.status, json: JSON.parse(response.text) as Record<string, unknown> };
}

export interface Member {
  name: string;
  lines: string[];
}

/** The members of an export archive, in archive order, each gunzipped and split into NDJSON lines. */
export function decodeExport(zip: Uint8Array): Member[] {
  return Object.entries(unzipSync(zip)).map(([name, gz]) => ({ name, lines: ndjsonLines(gunzipSync(gz)) }));
}

export function ndjsonLines(bytes: Uint8Array): string[] {
  const text = strFromU8(bytes);
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error('NDJSON member does not end with a newline');
  return text.slice(0, -1).split('\n');
}

/** `187520/187520_2024-03-01_7#0.json.gz` -> the epoch ms of that upload hour and the partition number. */
export function parseMemberName(name: string): { hourStartMs: number; partition: number } {
  const match = /^(\d+)\/\1_(\d{4}-\d{2}-\d{2})_(\d{1,2})#(\d+)\.json\.gz$/.exec(name);
  if (!match) throw new Error(`unexpected member name ${name}`);
  return {
    hourStartMs: Date.parse(`${match[2]}T00:00:00Z`) + Number(match[3]) * HOUR_MS,
    partition: Number(match[4]),
  };
}

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = Buffer.from([0x50, 0x4b, 0x07, 0x08]);

/**
 * The complete entries at the start of a possibly cut-off archive. Entries are stored with a data
 * descriptor, so an entry ends at the descriptor whose compressed-size field matches its length.
 */
export function completeLeadingEntries(archive: Buffer): Array<{ name: string; data: Buffer }> {
  const entries: Array<{ name: string; data: Buffer }> = [];
  let offset = 0;
  while (offset + 30 <= archive.length && archive.readUInt32LE(offset) === LOCAL_HEADER) {
    const nameLength = archive.readUInt16LE(offset + 26);
    const extraLength = archive.readUInt16LE(offset + 28);
    const name = archive.subarray(offset + 30, offset + 30 + nameLength).toString('utf8');
    const dataStart = offset + 30 + nameLength + extraLength;
    let end = -1;
    for (
      let at = archive.indexOf(DATA_DESCRIPTOR, dataStart);
      at >= 0;
      at = archive.indexOf(DATA_DESCRIPTOR, at + 1)
    ) {
      if (at + 16 <= archive.length && archive.readUInt32LE(at + 8) === at - dataStart) {
        end = at;
        break;
      }
    }
    if (end < 0) break;
    entries.push({ name, data: archive.subarray(dataStart, end) });
    offset = end + 16;
  }
  return entries;
}

/** Reads a response body until it ends or no byte arrives for `quietMs`, then gives up on it. */
export async function readUntilQuiet(
  sim: Simulator,
  pathAndQuery: string,
  quietMs = 1500,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  ended: boolean;
}> {
  const abort = new AbortController();
  const response = await request(`${sim.urls.standard}${pathAndQuery}`, {
    headers: { authorization: STANDARD_AUTH },
    signal: abort.signal,
  });
  const chunks: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  const quiet = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), quietMs);
  };
  quiet();
  let ended = false;
  try {
    for await (const chunk of response.body) {
      chunks.push(chunk as Buffer);
      quiet();
    }
    ended = true;
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
  }
  return { status: response.statusCode, headers: response.headers, bytes: Buffer.concat(chunks), ended };
}
