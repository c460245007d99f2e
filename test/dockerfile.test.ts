// The Dockerfile and .dockerignore are for users with Docker; there is no Docker engine here, so they
// are validated statically: every file the image copies and every command it runs must exist.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join, posix } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const inside = (path: string, dir: string) => path === dir || path.startsWith(`${dir.replace(/\/+$/, '')}/`);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

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

/** A command as argv: compose allows a list or a string (split on whitespace, as compose does without quotes). */
function argv(command: Json | undefined): string[] | undefined {
  if (typeof command === 'string') return command.trim().split(/\s+/);
  if (Array.isArray(command) && command.every((part) => typeof part === 'string')) return command as string[];
  return undefined;
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

  // The image that runs is the last stage's.
  const from =
    instructions
      .filter((i) => i.keyword === 'FROM')
      .at(-1)
      ?.args.split(/\s+/)[0] ?? '';
  const base = /^node:(\d+)\.(\d+)(?:\.(\d+))?-bookworm-slim$/.exec(from);
  const [, major, minor, patch] = /(\d+)\.(\d+)\.(\d+)/.exec(engines)!.map(Number);
  if (!base) problems.push(`FROM ${from}: expected a pinned node:<major>.<minor>-bookworm-slim`);
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
  // Airbyte runs a connector image through AIRBYTE_ENTRYPOINT where it cannot use ENTRYPOINT.
  const airbyteEntrypoint = /AIRBYTE_ENTRYPOINT="([^"]*)"/.exec(
    instructions.find((i) => i.keyword === 'ENV' && i.args.includes('AIRBYTE_ENTRYPOINT='))?.args ?? '',
  )?.[1];
  if (airbyteEntrypoint !== entrypoint?.join(' ')) {
    problems.push(
      `AIRBYTE_ENTRYPOINT ${JSON.stringify(airbyteEntrypoint)}: must be the ENTRYPOINT, ${JSON.stringify(entrypoint?.join(' '))}`,
    );
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

const devCompose = parse(read('compose.dev.yml'), { merge: true }) as {
  services: Record<string, { command?: Json }>;
};
const services = devCompose.services;
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
};
const dockerfile = read('Dockerfile');
const dockerignore = read('.dockerignore');

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
      expectProblem(
        dockerfile.replace('"/app/bin/amplitude-sync.js"]', '"/app/bin/amplitude-sync.mjs"]'),
        /ENTRYPOINT .*not a file copied/,
      ));
    test('an AIRBYTE_ENTRYPOINT that is not the entry point', () =>
      expectProblem(
        dockerfile.replace('AIRBYTE_ENTRYPOINT="node ', 'AIRBYTE_ENTRYPOINT="nodejs '),
        /AIRBYTE_ENTRYPOINT .*must be the ENTRYPOINT/,
      ));
    test('a Node too old for package.json, an unknown command, root', () => {
      expectProblem(dockerfile.replace(/^FROM node:\S+$/m, 'FROM node:24.10-bookworm-slim'), /needs Node/);
      expectProblem(dockerfile.replace('CMD ["worker"', 'CMD ["serve"'), /CMD .*not a command/);
      expectProblem(dockerfile.replace(/^USER .*$/m, ''), /runs as root/);
    });
  });
});
