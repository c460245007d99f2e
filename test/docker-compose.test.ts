// docker-compose.yml, Dockerfile and .dockerignore are for users with Docker; there is no Docker engine
// here, so they are validated statically: every reference they make (services, ports, CLI commands,
// mounted paths, files copied into the image) must point at something that exists.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join, posix } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseConfig } from '../src/config.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Service = { [key: string]: Json };
interface Compose {
  [key: string]: Json;
}

interface Repo {
  /** Subcommands of src/cli.ts, with the USAGE line that documents each. */
  commands: Map<string, string>;
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  list(dir: string): string[];
}

const repo: Repo = {
  commands: cliCommands(read('src/cli.ts')),
  exists: (path) => existsSync(join(ROOT, path)),
  isDirectory: (path) => existsSync(join(ROOT, path)) && statSync(join(ROOT, path)).isDirectory(),
  list: (dir) => (existsSync(join(ROOT, dir)) ? readdirSync(join(ROOT, dir)) : []),
};

/** COMMANDS' keys in src/cli.ts, each with its `amplitude-sync <command> ...` line from USAGE. */
function cliCommands(source: string): Map<string, string> {
  const block = /const COMMANDS\b.*?=\s*\{([^}]*)\}/s.exec(source)?.[1];
  assert.ok(block, 'src/cli.ts: no COMMANDS table found');
  const names = [...block.matchAll(/^\s*([a-z][\w-]*)\s*:/gm)].map((m) => m[1]!);
  assert.ok(names.length > 0, 'src/cli.ts: COMMANDS is empty');
  return new Map(
    names.map((name) => [name, new RegExp(`amplitude-sync ${name}\\b([^'\\n]*)`).exec(source)?.[1] ?? '']),
  );
}

const isObject = (value: Json | undefined): value is { [key: string]: Json } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A command as argv: compose allows a list or a string (split on whitespace, as compose does without quotes). */
function argv(command: Json | undefined): string[] | undefined {
  if (typeof command === 'string') return command.trim().split(/\s+/);
  if (Array.isArray(command) && command.every((part) => typeof part === 'string')) return command as string[];
  return undefined;
}

function flag(args: string[], ...names: string[]): string | undefined {
  for (const [i, arg] of args.entries()) {
    for (const name of names) {
      if (arg === name) return args[i + 1];
      if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
    }
  }
  return undefined;
}

function environment(service: Service): Map<string, string | undefined> {
  const env = service.environment;
  if (Array.isArray(env)) {
    return new Map(
      env.map((entry) => {
        const [key, ...value] = String(entry).split('=');
        return [key!, value.length > 0 ? value.join('=') : undefined];
      }),
    );
  }
  if (isObject(env)) {
    return new Map(
      Object.entries(env).map(([key, value]) => [key, value === null ? undefined : String(value)]),
    );
  }
  return new Map();
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  named: boolean;
}

function mounts(service: Service): Mount[] {
  const volumes = Array.isArray(service.volumes) ? service.volumes : [];
  return volumes.map((volume) => {
    if (typeof volume === 'string') {
      const [source = '', target = '', mode = ''] = volume.split(':');
      return {
        source,
        target,
        readOnly: mode.split(',').includes('ro'),
        named: !/^[./~]/.test(source),
      };
    }
    const long = isObject(volume) ? volume : {};
    return {
      source: String(long.source ?? ''),
      target: String(long.target ?? ''),
      readOnly: long.read_only === true,
      named: long.type === 'volume',
    };
  });
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(`${dir.replace(/\/+$/, '')}/`);
const mountFor = (service: Service, path: string) =>
  mounts(service)
    .filter((mount) => inside(path, mount.target))
    .sort((a, b) => b.target.length - a.target.length)[0];

/** The container port the Temporal dev server listens on (its --port flag, else 7233). */
function temporalPort(service: Service): number | undefined {
  const args = argv(service.command);
  if (!args?.includes('start-dev')) return undefined;
  return Number(flag(args, '--port', '-p') ?? 7233);
}

const SECRET_NAME = /KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL/i;
const FROM_HOST = (name: string) => new RegExp(`^\\$\\{${name}(?::?[?-][^}]*)?\\}$`);
const PORT = /^(?:(?:\d{1,3}\.){3}\d{1,3}:)?\d{1,5}:\d{1,5}(?:\/(?:tcp|udp))?$/;

function composeProblems(compose: Compose, r: Repo): string[] {
  const problems: string[] = [];
  const services = isObject(compose.services) ? (compose.services as Record<string, Service>) : {};
  const declaredVolumes = isObject(compose.volumes) ? Object.keys(compose.volumes) : [];
  if ('version' in compose) problems.push('top-level "version" is obsolete in the Compose Specification');

  const temporal = Object.entries(services).filter(([, service]) => temporalPort(service) !== undefined);
  if (temporal.length !== 1)
    problems.push(`expected one service running "server start-dev", found ${temporal.length}`);

  for (const [name, service] of Object.entries(services)) {
    const where = `services.${name}`;
    if (!isObject(service)) {
      problems.push(`${where}: not a mapping`);
      continue;
    }
    // Image or build; a build's Dockerfile exists; images are pinned.
    if (service.image === undefined && service.build === undefined)
      problems.push(`${where}: no image and no build`);
    if (service.build !== undefined) {
      const build = isObject(service.build) ? service.build : { context: service.build };
      const dockerfile = join(String(build.context ?? '.'), String(build.dockerfile ?? 'Dockerfile'));
      if (!r.exists(dockerfile)) problems.push(`${where}: build uses ${dockerfile}, which does not exist`);
    } else if (typeof service.image === 'string') {
      const tag = /:([^/:@]+)$/.exec(service.image)?.[1];
      if (!tag || tag === 'latest')
        problems.push(`${where}: image ${service.image} is not pinned to a version`);
    }

    // Ports are quoted strings (YAML reads 22:22 unquoted as a base-60 number in YAML 1.1).
    for (const port of Array.isArray(service.ports) ? service.ports : []) {
      if (typeof port !== 'string' || !PORT.test(port)) {
        problems.push(`${where}: port ${JSON.stringify(port)} is not a string like "127.0.0.1:8233:8233"`);
      }
    }

    // Named volumes are declared at the top level.
    for (const mount of mounts(service)) {
      if (!mount.target.startsWith('/'))
        problems.push(`${where}: volume target ${mount.target} is not absolute`);
      if (mount.named && !declaredVolumes.includes(mount.source)) {
        problems.push(`${where}: named volume ${mount.source} is not declared under top-level volumes`);
      }
    }

    // Secrets come from the host's environment (under their name or another), never from this file.
    for (const [key, value] of environment(service)) {
      if (SECRET_NAME.test(key) && value !== undefined && !FROM_HOST('[A-Z_]+').test(value)) {
        problems.push(
          `${where}: ${key} must be taken from the environment (\${${key}:?...}), not written here`,
        );
      }
    }

    // depends_on names real services; a health condition needs a healthcheck.
    const dependsOn = service.depends_on;
    const dependencies = Array.isArray(dependsOn)
      ? dependsOn.map((dep) => [String(dep), undefined] as const)
      : isObject(dependsOn)
        ? Object.entries(dependsOn).map(
            ([dep, spec]) => [dep, isObject(spec) ? spec.condition : undefined] as const,
          )
        : [];
    for (const [dep, condition] of dependencies) {
      if (!(dep in services)) problems.push(`${where}: depends_on ${dep}, which is not a service`);
      else if (condition === 'service_healthy' && !isObject(services[dep]!.healthcheck)) {
        problems.push(`${where}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
    }

    // The dev server: reachable from other containers, database on a volume, health checked on its port.
    const port = temporalPort(service);
    if (port !== undefined) {
      const args = argv(service.command)!;
      if (flag(args, '--ip') !== '0.0.0.0')
        problems.push(`${where}: start-dev needs --ip 0.0.0.0 to be reachable`);
      const db = flag(args, '--db-filename', '-f');
      if (!db) problems.push(`${where}: start-dev without --db-filename keeps everything in memory`);
      else if (!mountFor(service, db)) problems.push(`${where}: database ${db} is not on a volume`);
      if (!(Array.isArray(service.ports) ? service.ports : []).some((p) => String(p).endsWith(`:${port}`))) {
        problems.push(`${where}: frontend port ${port} is not published`);
      }
      const health = isObject(service.healthcheck) ? argv(service.healthcheck.test) : undefined;
      if (health && !health.some((arg) => arg.endsWith(`:${port}`))) {
        problems.push(`${where}: healthcheck does not probe port ${port}`);
      }
    }

    // Services of this project: a real CLI command, a reachable Temporal, a mounted config.
    if (service.build !== undefined) {
      const args = argv(service.command);
      const command = args?.[0];
      if (!command || !r.commands.has(command)) {
        problems.push(
          `${where}: command ${JSON.stringify(command)} is not one of ${[...r.commands.keys()].join(', ')}`,
        );
        continue;
      }
      for (const arg of args!.filter((a) => a.startsWith('--'))) {
        if (!r.commands.get(command)!.includes(arg.split('=')[0]!)) {
          problems.push(`${where}: "${command}" has no option ${arg} (src/cli.ts USAGE)`);
        }
      }
      const address = environment(service).get('TEMPORAL_ADDRESS');
      const [host, addressPort] = (address ?? '').split(':');
      const target = host ? services[host] : undefined;
      if (!target || temporalPort(target) === undefined || temporalPort(target) !== Number(addressPort)) {
        problems.push(`${where}: TEMPORAL_ADDRESS=${address} is not the dev server service's host:port`);
      } else if (!dependencies.some(([dep]) => dep === host)) {
        problems.push(`${where}: does not depend on ${host}`);
      }
      for (const name of ['AMPLITUDE_API_KEY', 'AMPLITUDE_SECRET_KEY']) {
        if (!FROM_HOST(name).test(environment(service).get(name) ?? '')) {
          problems.push(`${where}: ${name} is not passed through from the host (\${${name}:?...})`);
        }
      }
      const config = flag(args!, '--config');
      if (config && !mountFor(service, config))
        problems.push(`${where}: --config ${config} is not in a mounted volume`);
    }
  }
  return problems;
}

interface Instruction {
  keyword: string;
  args: string;
}

function dockerInstructions(text: string): Instruction[] {
  const lines = text.split('\n').filter((line) => !/^\s*#/.test(line));
  return lines
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** .dockerignore patterns (root-relative, `*` within a path segment); `!` exceptions are not supported. */
function ignoredBy(patterns: string[], path: string): string | undefined {
  const clean = path.replace(/^\.\//, '').replace(/\/+$/, '');
  return patterns.find((pattern) => {
    const glob = pattern.replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(
      `^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(?:/.*)?$`,
    );
    return regex.test(clean);
  });
}

function dockerfileProblems(text: string, dockerignore: string, engines: string, r: Repo): string[] {
  const problems: string[] = [];
  const instructions = dockerInstructions(text);
  const ignore = dockerignore
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const jsonArgs = (keyword: string) => {
    const last = instructions.filter((i) => i.keyword === keyword).at(-1);
    try {
      const parsed: unknown = last ? JSON.parse(last.args) : undefined;
      return Array.isArray(parsed) ? (parsed as string[]) : undefined;
    } catch {
      return undefined;
    }
  };

  const from = instructions.find((i) => i.keyword === 'FROM')?.args.split(/\s+/)[0] ?? '';
  const base = /^node:(\d+)\.(\d+)(?:\.(\d+))?-bookworm-slim$/.exec(from);
  const [, major, minor, patch] = /(\d+)\.(\d+)\.(\d+)/.exec(engines)!.map(Number);
  if (!base) problems.push(`FROM ${from}: expected a pinned node:20.x-bookworm-slim`);
  else {
    const [tagMajor, tagMinor, tagPatch] = base
      .slice(1)
      .map((v) => (v === undefined ? undefined : Number(v)));
    const tooOld =
      tagMajor !== major ||
      tagMinor! < minor! ||
      (tagMinor === minor && tagPatch !== undefined && tagPatch < patch!);
    if (tooOld) problems.push(`FROM ${from}: package.json needs Node ${engines}`);
  }

  // Every COPY source exists and is not in .dockerignore; remember where it lands.
  let workdir = '/';
  const copies: { source: string; dest: string; directory: boolean; intoDirectory: boolean }[] = [];
  for (const { keyword, args } of instructions) {
    if (keyword === 'WORKDIR') workdir = posix.resolve(workdir, args);
    if (keyword !== 'COPY' && keyword !== 'ADD') continue;
    const parts = args.split(/\s+/).filter((part) => !part.startsWith('--'));
    if (/--from=/.test(args)) continue;
    const dest = parts.pop()!;
    const destination = posix.resolve(workdir, dest);
    // Several sources (or a glob) need a directory destination; so does a trailing slash.
    const intoDirectory = dest.endsWith('/') || parts.length > 1 || parts.some((part) => part.includes('*'));
    for (const source of parts) {
      const matches = source.includes('*')
        ? r
            .list(dirname(source))
            .filter((name) =>
              new RegExp(
                `^${basename(source)
                  .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
                  .replace(/\*/g, '.*')}$`,
              ).test(name),
            )
            .map((name) => join(dirname(source), name))
        : r.exists(source)
          ? [source]
          : [];
      if (matches.length === 0) problems.push(`${keyword} ${source}: no such file in the repository`);
      for (const match of matches) {
        const pattern = ignoredBy(ignore, match);
        if (pattern) problems.push(`${keyword} ${match}: excluded by .dockerignore pattern "${pattern}"`);
        copies.push({ source: match, dest: destination, directory: r.isDirectory(match), intoDirectory });
      }
    }
  }
  const repoPathOf = (containerPath: string) => {
    for (const { source, dest, directory, intoDirectory } of copies) {
      // A directory source copies its contents; a file lands in the destination directory or as it.
      if (directory && inside(containerPath, dest)) return join(source, posix.relative(dest, containerPath));
      const target = intoDirectory ? posix.join(dest, basename(source)) : dest;
      if (!directory && containerPath === target) return source;
    }
    return undefined;
  };

  const entrypoint = jsonArgs('ENTRYPOINT');
  const script = entrypoint?.slice(1).find((arg) => !arg.startsWith('-'));
  if (entrypoint?.[0] !== 'node' || !script) {
    problems.push('ENTRYPOINT: expected the JSON form ["node", ...flags, "<script>"]');
  } else {
    const source = repoPathOf(posix.resolve(workdir, script));
    if (!source || !r.exists(source))
      problems.push(`ENTRYPOINT ${script}: not a file copied from the repository`);
  }
  for (const file of ['package.json', 'package-lock.json', 'tsconfig.json']) {
    if (!repoPathOf(posix.resolve(workdir, file))) problems.push(`${file} is not copied into ${workdir}`);
  }
  if (!instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))) {
    problems.push('no `npm ci`: dependencies must come from package-lock.json');
  }

  const cmd = jsonArgs('CMD');
  if (!cmd?.[0] || !r.commands.has(cmd[0]))
    problems.push(`CMD ${JSON.stringify(cmd)}: not a command of src/cli.ts`);

  const user = instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;
  if (!user || /^(root|0)(:|$)/.test(user)) problems.push('the image runs as root: add USER');
  return problems;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const services = compose.services as Record<string, Service>;
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
};
const dockerfile = read('Dockerfile');
const dockerignore = read('.dockerignore');
const copy = <T>(value: T): T => structuredClone(value);

describe('docker-compose.yml', () => {
  test('has no problems', () => {
    assert.deepEqual(composeProblems(compose, repo), []);
  });

  test('runs a worker against the dev server, and a one-shot sync under a profile', () => {
    assert.ok(services.temporal && services.worker, 'services temporal and worker');
    assert.deepEqual(argv(services.worker!.command), ['worker', '--config', '/config/connection.json']);
    assert.equal(environment(services.worker!).get('TEMPORAL_ADDRESS'), 'temporal:7233');
    assert.deepEqual(services.worker!.depends_on, {
      temporal: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
    });
    assert.equal(
      mountFor(services.worker!, '/config/connection.json')?.readOnly,
      true,
      'config mounted read-only',
    );
    assert.equal(mountFor(services.worker!, '/data')?.readOnly, false, 'output volume writable');
    assert.equal(argv(services.sync?.command)?.[0], 'sync');
    assert.deepEqual(services.sync?.profiles, ['manual']);
  });

  test('pins the Temporal CLI version that scripts/setup-temporal.sh installs', () => {
    const cliVersion = /^CLI_VERSION=(\S+)/m.exec(read('scripts/setup-temporal.sh'))?.[1];
    assert.ok(cliVersion);
    assert.equal(services.temporal!.image, `temporalio/temporal:${cliVersion}`);
  });

  test('the example config is valid, takes credentials from the environment, and writes to the output volume', () => {
    const example = JSON.parse(read('examples/connection.example.json')) as Record<string, unknown>;
    assert.ok(!('api_key' in example) && !('secret_key' in example), 'no credentials in the example');
    assert.throws(() => parseConfig(example, {}), /api_key is required/);
    const config = parseConfig(example, { AMPLITUDE_API_KEY: 'k', AMPLITUDE_SECRET_KEY: 's' });
    assert.equal(config.destination.type, 'local');
    const path = config.destination.type === 'local' ? config.destination.path : '';
    const mount = mountFor(services.worker!, path);
    assert.ok(mount && !mount.readOnly, `destination.path ${path} is on a writable volume`);
    assert.equal(mount.source, './amplitude-data');
  });

  test('the postgres example config loads into the postgres service, with the password from the host', () => {
    const example = JSON.parse(read('examples/connection.postgres.example.json')) as Record<string, unknown>;
    const config = parseConfig(example, { AMPLITUDE_API_KEY: 'k', AMPLITUDE_SECRET_KEY: 's' });
    assert.equal(config.destination.type, 'postgres');
    const destination = config.destination as { host?: string; user?: string; database?: string };
    const database = services[destination.host ?? ''];
    assert.ok(database, `destination.host ${destination.host} is a service`);
    const dbEnv = environment(database);
    assert.equal(dbEnv.get('POSTGRES_USER'), destination.user);
    assert.equal(dbEnv.get('POSTGRES_DB'), destination.database);
    for (const service of [services.worker!, services.sync!]) {
      assert.match(environment(service).get('PGPASSWORD') ?? '', FROM_HOST('POSTGRES_PASSWORD'));
    }
    assert.match(dbEnv.get('POSTGRES_PASSWORD') ?? '', FROM_HOST('POSTGRES_PASSWORD'));
  });

  describe('the checks catch mistakes', () => {
    const expectProblem = (
      mutate: (c: Compose & { services: Record<string, Service> }) => void,
      re: RegExp,
    ) => {
      const broken = copy(compose) as Compose & { services: Record<string, Service> };
      mutate(broken);
      const problems = composeProblems(broken, repo);
      assert.ok(
        problems.some((p) => re.test(p)),
        `expected a problem matching ${re}, got ${JSON.stringify(problems)}`,
      );
    };

    test('a misspelt service in TEMPORAL_ADDRESS', () =>
      expectProblem((c) => {
        (c.services.worker!.environment as Record<string, string>).TEMPORAL_ADDRESS = 'temporl:7233';
      }, /TEMPORAL_ADDRESS=temporl:7233/));
    test('the wrong port in TEMPORAL_ADDRESS', () =>
      expectProblem((c) => {
        (c.services.worker!.environment as Record<string, string>).TEMPORAL_ADDRESS = 'temporal:8233';
      }, /TEMPORAL_ADDRESS/));
    test('a renamed temporal service', () =>
      expectProblem((c) => {
        c.services.temporal_server = c.services.temporal!;
        delete c.services.temporal;
      }, /TEMPORAL_ADDRESS|depends_on temporal/));
    test('an unknown CLI command or option', () => {
      expectProblem((c) => {
        c.services.worker!.command = ['wroker', '--config', '/config/connection.json'];
      }, /command "wroker" is not one of sync, check, verify, schedule, worker, demo/);
      expectProblem((c) => {
        c.services.worker!.command = ['worker', '--konfig', '/config/connection.json'];
      }, /no option --konfig/);
    });
    test('a literal secret', () =>
      expectProblem((c) => {
        (c.services.worker!.environment as Record<string, string>).AMPLITUDE_SECRET_KEY = 'abc123';
      }, /AMPLITUDE_SECRET_KEY must be taken from the environment/));
    test('a config outside every volume', () =>
      expectProblem((c) => {
        c.services.worker!.volumes = ['./amplitude-data:/data'];
      }, /--config \/config\/connection.json is not in a mounted volume/));
    test('an unquoted port, an undeclared volume, an in-memory server', () => {
      expectProblem((c) => {
        c.services.temporal!.ports = [8233];
      }, /port 8233 is not a string/);
      expectProblem((c) => {
        delete c.volumes;
      }, /temporal-data is not declared/);
      expectProblem((c) => {
        c.services.temporal!.volumes = [];
      }, /database .* is not on a volume/);
    });
    test('an unpinned image and a service with neither image nor build', () => {
      expectProblem((c) => {
        c.services.temporal!.image = 'temporalio/temporal:latest';
      }, /not pinned/);
      expectProblem((c) => {
        delete c.services.sync!.build;
        delete c.services.sync!.image;
      }, /services.sync: no image and no build/);
    });
  });
});

describe('Dockerfile', () => {
  test('has no problems', () => {
    assert.deepEqual(dockerfileProblems(dockerfile, dockerignore, pkg.engines.node, repo), []);
  });

  test('its default command is what the worker service runs', () => {
    const cmd = /^CMD\s+(.*)$/m.exec(dockerfile)?.[1];
    assert.deepEqual(JSON.parse(cmd!), argv(services.worker!.command));
  });

  test('everything bin/ and src/ import at run time is a production dependency (npm ci --omit=dev)', () => {
    const files = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? files(join(dir, entry.name))
          : /\.[cm]?[jt]s$/.test(entry.name)
            ? [join(dir, entry.name)]
            : [],
      );
    const missing = new Set<string>();
    for (const file of [...files('bin'), ...files('src')]) {
      const source = read(file);
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm),
        ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((m) => m[1]!);
      for (const specifier of specifiers) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier))
          continue;
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0]!;
        if (!(name in pkg.dependencies)) missing.add(`${name} (${file})`);
      }
    }
    assert.deepEqual([...missing], []);
  });

  test('.dockerignore keeps secrets, data and node_modules out of the build context', () => {
    const patterns = dockerignore.split('\n').map((line) => line.trim());
    for (const path of ['.env', 'node_modules', 'config', 'amplitude-data', '.git', '.temporal']) {
      assert.ok(ignoredBy(patterns, path), `${path} is not in .dockerignore`);
    }
  });

  describe('the checks catch mistakes', () => {
    const expectProblem = (text: string, re: RegExp, ignore = dockerignore) => {
      const problems = dockerfileProblems(text, ignore, pkg.engines.node, repo);
      assert.ok(
        problems.some((p) => re.test(p)),
        `expected a problem matching ${re}, got ${JSON.stringify(problems)}`,
      );
    };

    test('a missing COPY source', () =>
      expectProblem(
        dockerfile.replace('COPY src/ ./src/', 'COPY srcs/ ./src/'),
        /COPY srcs\/: no such file/,
      ));
    test('a COPY source excluded by .dockerignore', () =>
      expectProblem(
        dockerfile,
        /COPY src\/: excluded by .dockerignore pattern "src"/,
        `${dockerignore}\nsrc\n`,
      ));
    test('an entry point that is not copied', () =>
      expectProblem(dockerfile.replace('bin/amplitude-sync.js', 'bin/amplitude-sync.mjs'), /ENTRYPOINT/));
    test('a Node too old for package.json, an unknown command, root', () => {
      expectProblem(dockerfile.replace(/^FROM .*$/m, 'FROM node:20.17-bookworm-slim'), /needs Node/);
      expectProblem(dockerfile.replace('CMD ["worker"', 'CMD ["serve"'), /CMD .*not a command/);
      expectProblem(dockerfile.replace(/^USER .*$/m, ''), /runs as root/);
    });
  });
});
