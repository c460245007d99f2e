// The Amplitude projects a worker serves, by name: their settings and credentials, read on the worker
// at start-up and never sent through Temporal. A sync names its connection; `{}` means the worker's
// only one.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { AmplitudeClient } from './amplitude/client.ts';
import { ConfigError, type ConnectionConfig, parseConfig, syncSettings } from './config.ts';
import { CONNECTION_NAME } from './workflows/request.ts';
import type { SyncSettings } from './workflows/types.ts';

export interface NamedConnection {
  name: string;
  config: ConnectionConfig;
}

/** What a sync started by name runs with: everything but the credentials. */
export interface ResolvedConnection {
  name: string;
  settings: SyncSettings;
}

/** `web-prod` -> `AMPLITUDE_WEB_PROD_`: the prefix of the connection's credential variables. */
export function credentialPrefix(name: string): string {
  return `AMPLITUDE_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_`;
}

/** A credential from the config, else `<PREFIX>API_KEY`, else the file `<PREFIX>API_KEY_FILE` names. */
async function credential(
  raw: Record<string, unknown>,
  field: 'api_key' | 'secret_key',
  name: string,
  env: NodeJS.ProcessEnv,
): Promise<unknown> {
  if (raw[field] !== undefined) return raw[field];
  const variable = `${credentialPrefix(name)}${field.toUpperCase()}`;
  if (env[variable]) return env[variable];
  const file = env[`${variable}_FILE`];
  if (file) {
    try {
      return (await readFile(file, 'utf8')).trim();
    } catch (error) {
      throw new ConfigError(
        `connection ${name}: ${variable}_FILE names ${file}, which cannot be read: ${(error as Error).message}`,
      );
    }
  }
  throw new ConfigError(
    `connection ${name}: no ${field}: set ${variable} (or ${variable}_FILE, a file holding it) on the worker`,
  );
}

async function namedConnection(name: string, raw: unknown, source: string, env: NodeJS.ProcessEnv) {
  if (!CONNECTION_NAME.test(name)) {
    throw new ConfigError(
      `${source}: "${name}" is not a connection name: use letters, digits, "-", "_" or "." (up to 63)`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: connection ${name} must be a JSON object (a connection config)`);
  }
  const withCredentials = {
    ...raw,
    api_key: await credential(raw as Record<string, unknown>, 'api_key', name, env),
    secret_key: await credential(raw as Record<string, unknown>, 'secret_key', name, env),
  };
  return { name, config: parseConfig(withCredentials, {}, `${source}: connection ${name}`) };
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read connections from ${path}: ${(error as Error).message}`);
  }
}

/**
 * Connections from a file (`{"web-prod": {config}, "ios": {config}}`) or a directory of config files
 * (`web-prod.json`, ...; the name is the file's). Credentials: see `credential`.
 */
export async function loadConnections(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NamedConnection[]> {
  const info = await stat(path).catch((error: Error) => {
    throw new ConfigError(`cannot read connections from ${path}: ${error.message}`);
  });
  const connections: NamedConnection[] = [];
  if (info.isDirectory()) {
    const files = (await readdir(path)).filter((file) => file.endsWith('.json')).sort();
    for (const file of files) {
      const full = join(path, file);
      connections.push(await namedConnection(basename(file, '.json'), await readJson(full), full, env));
    }
  } else {
    const raw = await readJson(path);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigError(`${path}: expected an object of connections by name, {"web-prod": {...}}`);
    }
    for (const [name, config] of Object.entries(raw)) {
      connections.push(await namedConnection(name, config, path, env));
    }
  }
  if (connections.length === 0) {
    throw new ConfigError(
      `${path} holds no connection: add one, e.g. {"web-prod": {"start_date": "2024-01-01"}}`,
    );
  }
  return connections;
}

/** The worker's connections, each with its Amplitude client (made when first used). */
export class ConnectionRegistry {
  readonly #connections = new Map<string, NamedConnection>();
  readonly #clients = new Map<string, AmplitudeClient>();

  constructor(
    connections: readonly NamedConnection[],
    private readonly clientFor: (config: ConnectionConfig) => AmplitudeClient,
  ) {
    for (const connection of connections) this.#connections.set(connection.name, connection);
  }

  names(): string[] {
    return [...this.#connections.keys()];
  }

  /** The named connection; without a name, the worker's only one. Fails the sync when there is none. */
  get(name?: string): NamedConnection {
    const known = this.names();
    const found =
      name === undefined
        ? known.length === 1
          ? this.#connections.get(known[0]!)
          : undefined
        : this.#connections.get(name);
    if (found) return found;
    throw ApplicationFailure.create({
      type: 'UnknownConnection',
      nonRetryable: true,
      message:
        name === undefined
          ? `The workers serve ${known.length} connections (${known.join(', ')}): name one, {"connection": "${known[0]}"}.`
          : `No connection "${name}" on the workers: use one of ${known.join(', ')}, or add it to the workers' connections file and restart them.`,
    });
  }

  resolve(name?: string): ResolvedConnection {
    const { name: resolved, config } = this.get(name);
    return { name: resolved, settings: { ...syncSettings(config), connection: resolved } };
  }

  amplitude(name?: string): AmplitudeClient {
    const { name: resolved, config } = this.get(name);
    let client = this.#clients.get(resolved);
    if (!client) {
      client = this.clientFor(config);
      this.#clients.set(resolved, client);
    }
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => client.close()));
  }
}
