// bin/amplitude-sync.js chooses between the compiled dist/ and the TypeScript sources: run here on a
// copy of it beside a stand-in dist/cli.js and src/cli.ts, so that the choice shows in the output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

const BIN = new URL('../bin/amplitude-sync.js', import.meta.url).pathname;
const NODE_MODULES = new URL('../node_modules', import.meta.url).pathname;

describe('bin/amplitude-sync.js', () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'amplitude-sync-bin-'));
    await mkdir(join(root, 'bin'));
    await mkdir(join(root, 'dist'));
    await mkdir(join(root, 'src'));
    await copyFile(BIN, join(root, 'bin', 'amplitude-sync.js'));
    // tsx alone (which runs the sources): V8's compile cache then goes to this copy's node_modules.
    await mkdir(join(root, 'node_modules'));
    await symlink(join(NODE_MODULES, 'tsx'), join(root, 'node_modules', 'tsx'));
    const cli = (which: string) =>
      `export async function main(args) { console.log('${which}', args.join(' ')); return 0; }\n`;
    await writeFile(join(root, 'dist', 'cli.js'), cli('compiled'));
    await writeFile(join(root, 'src', 'cli.ts'), cli('sources'));
    await writeFile(join(root, 'dist', '.built'), '');
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const run = (env: NodeJS.ProcessEnv = {}) => {
    const clean = { ...process.env };
    delete clean.AMPLITUDE_SYNC_FROM_SOURCES;
    delete clean.AMPLITUDE_SYNC_COMPILED_ONLY;
    return spawnSync(process.execPath, [join(root, 'bin', 'amplitude-sync.js'), 'status'], {
      env: { ...clean, ...env },
      encoding: 'utf8',
    });
  };
  /** The sources `seconds` later than dist/.built. */
  const sourcesNewerBy = async (seconds: number) => {
    const built = new Date('2026-01-01T00:00:00Z');
    await utimes(join(root, 'dist', '.built'), built, built);
    const edited = new Date(built.getTime() + seconds * 1000);
    await utimes(join(root, 'src', 'cli.ts'), edited, edited);
  };

  test('runs dist/ quietly when it is at least as new as every source', async () => {
    await sourcesNewerBy(-60);
    const result = run();
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'compiled status\n');
    assert.equal(result.stderr, '');
  });

  test('runs the sources after an edit that was not built, and says so on stderr', async () => {
    await sourcesNewerBy(60);
    const result = run();
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'sources status\n');
    assert.match(result.stderr, /dist\/ is missing or older than src\/, so the TypeScript sources run/);
  });

  test('AMPLITUDE_SYNC_COMPILED_ONLY refuses the sources, naming the fix', async () => {
    await sourcesNewerBy(60);
    const result = run({ AMPLITUDE_SYNC_COMPILED_ONLY: '1' });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /dist\/ is missing or older than src\/; run `npm run build`/);
  });

  test('AMPLITUDE_SYNC_FROM_SOURCES runs the sources quietly, whatever dist/ holds', async () => {
    await sourcesNewerBy(-60);
    const result = run({ AMPLITUDE_SYNC_FROM_SOURCES: '1' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'sources status\n');
    assert.equal(result.stderr, '');
  });
});
