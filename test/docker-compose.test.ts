// docker-compose.yml (production shape) and compose.dev.yml (a laptop), validated by the real Docker
// Compose CLI (`docker-compose config`, which needs no Docker engine; scripts/setup-compose.sh builds
// it), plus what Compose cannot know: the commands our image runs, the files they read, the services
// they reach.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config.ts';
import { loadConnections } from '../src/connections.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPOSE = process.env.DOCKER_COMPOSE ?? join(ROOT, '.compose', 'docker-compose');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[] | null;
  environment?: Record<string, string | null>;
  volumes?: Array<{ type: string; source: string; target: string; read_only?: boolean }>;
  secrets?: Array<{ source: string; target?: string }>;
  depends_on?: Record<string, { condition: string }>;
  ports?: Array<{ target: number; published: string; host_ip?: string }>;
  healthcheck?: { test: string[] };
}
interface Model {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string }>;
}

/** What `docker-compose config` makes of a file: the normalised model, or its error. */
function composeConfig(file: string, env: Record<string, string>): { model?: Model; error?: string } {
  assert.ok(
    existsSync(COMPOSE),
    `no Docker Compose CLI at ${COMPOSE}: run \`bash scripts/setup-compose.sh\` (or set DOCKER_COMPOSE)`,
  );
  const run = spawnSync(COMPOSE, ['-f', file, 'config', '--format', 'json'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  if (run.status !== 0) return { error: run.stderr.trim() || `exit ${run.status}` };
  return { model: JSON.parse(run.stdout) as Model };
}

/** `amplitude-sync <command> ...` lines of src/cli.ts's usage, by command. */
function cliUsage(): Map<string, string> {
  const source = read('src/cli.ts');
  const usage = new Map<string, string>();
  for (const match of source.matchAll(/amplitude-sync ([a-z]+)\b([^'\n`]*)/g)) {
    usage.set(match[1]!, `${usage.get(match[1]!) ?? ''} ${match[2]}`);
  }
  return usage;
}

const flag = (args: string[], name: string) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};

/** The checks Compose cannot make, for the services that run our image. */
function ourProblems(model: Model): string[] {
  const problems: string[] = [];
  const usage = cliUsage();
  for (const [name, service] of Object.entries(model.services)) {
    if (!service.build) continue;
    const where = `service ${name}`;
    const dockerfile = join(service.build.context, service.build.dockerfile ?? 'Dockerfile');
    if (!existsSync(dockerfile)) problems.push(`${where}: no ${dockerfile} to build`);
    const args = service.command ?? [];
    const [command, ...rest] = args;
    if (!command || !usage.has(command)) {
      problems.push(
        `${where}: "${command}" is not an amplitude-sync command (${[...usage.keys()].join(', ')})`,
      );
      continue;
    }
    for (const option of rest.filter((arg) => arg.startsWith('--'))) {
      if (!usage.get(command)!.includes(option))
        problems.push(`${where}: ${command} has no option ${option}`);
    }
    const address = service.environment?.TEMPORAL_ADDRESS ?? '';
    const [host = '', port = ''] = address.split(':');
    const temporal = model.services[host];
    if (!temporal) problems.push(`${where}: TEMPORAL_ADDRESS ${address} names no service`);
    else if (port !== '7233')
      problems.push(`${where}: TEMPORAL_ADDRESS ${address}: Temporal's frontend port is 7233`);
    else if (!service.depends_on?.[host]) problems.push(`${where}: does not wait for ${host}`);
    for (const option of ['--config', '--connections']) {
      const path = flag(args, option);
      if (!path) continue;
      const mount = service.volumes?.find((volume) => path.startsWith(`${volume.target}/`));
      if (!mount) problems.push(`${where}: ${option} ${path} is not in a mounted volume`);
    }
    for (const [variable, value] of Object.entries(service.environment ?? {})) {
      if (!variable.endsWith('_FILE') || !value?.startsWith('/run/secrets/')) continue;
      const secret = value.slice('/run/secrets/'.length);
      const granted = (service.secrets ?? []).map((given) => (given.target ?? given.source).split('/').pop());
      if (!granted.includes(secret)) {
        problems.push(`${where}: ${variable} reads ${value}, but the service is not given secret ${secret}`);
      }
    }
  }
  return problems;
}

describe('docker-compose.yml: Temporal on PostgreSQL, the UI, a worker fleet, schedules (production shape)', () => {
  const { model, error } = composeConfig('docker-compose.yml', { POSTGRES_PASSWORD: 'p' });

  test('Docker Compose accepts it', () => {
    assert.equal(error, undefined);
  });

  test('our services run real commands on files and secrets they are given', () => {
    assert.deepEqual(ourProblems(model!), []);
  });

  test('Temporal persists to PostgreSQL, the UI talks to it, a schedule is created at start-up', () => {
    const { temporal, 'temporal-ui': ui, worker, schedule, postgres } = model!.services;
    assert.match(temporal?.image ?? '', /^temporalio\/auto-setup:\d/);
    assert.equal(temporal?.environment?.DB, 'postgres12');
    assert.equal(temporal?.environment?.POSTGRES_SEEDS, 'postgres');
    assert.ok(postgres, 'the postgres service');
    assert.equal(ui?.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.deepEqual(
      ui?.ports?.map((port) => [port.host_ip, port.published, port.target]),
      [['127.0.0.1', '8080', 8080]],
    );
    assert.deepEqual(worker?.command?.slice(0, 3), ['worker', '--connections', '/config/connections.json']);
    assert.equal(flag(worker?.command ?? [], '--metrics-port'), '9464');
    assert.deepEqual(schedule?.command?.slice(0, 3), ['schedule', '--connection', 'web-prod']);
  });

  test('the example connections file loads with the secrets the worker is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-secrets-'));
    const worker = model!.services.worker!;
    const env: Record<string, string> = {};
    for (const [variable, value] of Object.entries(worker.environment ?? {})) {
      if (!variable.endsWith('_FILE') || !value) continue;
      // The container's /run/secrets/<name>, as a file here.
      const file = join(dir, value.split('/').pop()!);
      writeFileSync(file, `${variable}-value\n`);
      env[variable] = file;
    }
    const connections = await loadConnections(join(ROOT, 'examples/connections.example.json'), env);
    assert.deepEqual(
      connections.map((connection) => connection.name),
      ['web-prod'],
    );
    assert.equal(connections[0]!.config.api_key, 'AMPLITUDE_WEB_PROD_API_KEY_FILE-value');
    const destination = connections[0]!.config.destination;
    assert.equal(destination.type, 'postgres');
    if (destination.type === 'postgres') {
      assert.ok(model!.services[destination.host ?? ''], `destination.host ${destination.host} is a service`);
      assert.ok(
        worker.secrets?.some(
          (secret) => destination.password_file === (secret.target ?? `/run/secrets/${secret.source}`),
        ),
        'the destination password file is a secret of the worker',
      );
    }
  });
});

describe('compose.dev.yml: a dev server, a worker and PostgreSQL on a laptop', () => {
  const env = { AMPLITUDE_API_KEY: 'k', AMPLITUDE_SECRET_KEY: 's', POSTGRES_PASSWORD: 'p' };
  const { model, error } = composeConfig('compose.dev.yml', env);

  test('Docker Compose accepts it, and our services run real commands', () => {
    assert.equal(error, undefined);
    assert.deepEqual(ourProblems(model!), []);
  });

  test('pins the Temporal CLI version that scripts/setup-temporal.sh installs', () => {
    const cliVersion = /^CLI_VERSION=(\S+)/m.exec(read('scripts/setup-temporal.sh'))?.[1];
    assert.equal(model!.services.temporal?.image, `temporalio/temporal:${cliVersion}`);
  });

  test('the example configs are valid and take their credentials from the environment', () => {
    for (const file of ['examples/connection.example.json', 'examples/connection.postgres.example.json']) {
      const example = JSON.parse(read(file)) as Record<string, unknown>;
      assert.ok(!('api_key' in example), `${file} holds no credentials`);
      parseConfig(example, { AMPLITUDE_API_KEY: 'k', AMPLITUDE_SECRET_KEY: 's' });
    }
  });

  test('a required secret left unset is refused, naming it', () => {
    const { error: missing } = composeConfig('compose.dev.yml', {
      AMPLITUDE_API_KEY: 'k',
      POSTGRES_PASSWORD: 'p',
    });
    assert.match(missing ?? '', /set AMPLITUDE_SECRET_KEY/);
  });
});

describe('the checks catch mistakes', () => {
  const broken = (edit: (text: string) => string) => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-test-'));
    const file = join(dir, 'docker-compose.yml');
    writeFileSync(file, edit(read('docker-compose.yml')).replaceAll('build: .', `build: ${ROOT}`));
    return file;
  };

  test('Compose refuses what is not Compose: a misspelt key', () => {
    const file = broken((text) =>
      text.replace(
        '    healthcheck:\n      test: ["CMD", "pg_isready"',
        '    healthcheck:\n      tset: ["CMD", "pg_isready"',
      ),
    );
    const { error } = composeConfig(file, { POSTGRES_PASSWORD: 'p' });
    assert.match(error ?? '', /tset/);
  });

  test('ours refuse an unknown command or option, a wrong Temporal address, an ungranted secret', () => {
    const file = broken((text) =>
      text
        .replace('"--metrics-port", "9464"', '"--metrics-prot", "9464"')
        .replace('command: ["schedule"', 'command: ["schedul"')
        .replace(
          '    TEMPORAL_ADDRESS: temporal:7233\n    AMPLITUDE_WEB',
          '    TEMPORAL_ADDRESS: temporal:7234\n    AMPLITUDE_WEB',
        )
        .replace('  secrets:\n    - web_prod_api_key\n', '  secrets:\n'),
    );
    const { model, error } = composeConfig(file, { POSTGRES_PASSWORD: 'p' });
    assert.equal(error, undefined);
    const problems = ourProblems(model!).join('\n');
    assert.match(problems, /worker: worker has no option --metrics-prot/);
    assert.match(problems, /schedule: "schedul" is not an amplitude-sync command/);
    assert.match(problems, /TEMPORAL_ADDRESS temporal:7234: Temporal's frontend port is 7233/);
    assert.match(
      problems,
      /AMPLITUDE_WEB_PROD_API_KEY_FILE reads \/run\/secrets\/web_prod_api_key, but the service is not given secret/,
    );
  });
});
