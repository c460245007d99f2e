// The test suites, against one S3 server and one PostgreSQL cluster for the whole run (each suite
// makes its own bucket or database in them). A server that cannot start fails the run with the reason.
//
//   node --import tsx scripts/run-tests.ts [test files...]
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { startPostgres } from '../test/helpers/postgres-server.ts';
import { startS3Server } from '../test/helpers/s3-server.ts';
import { POSTGRES_ENV, S3_ENV } from '../test/helpers/shared-servers.ts';

const files = process.argv.slice(2);
if (files.length === 0) {
  for (const entry of await readdir('test', { recursive: true })) {
    const file = `test/${entry}`;
    if (file.endsWith('.test.ts') && file.split('/').length <= 3) files.push(file);
  }
  files.sort();
}
const [s3, postgres] = await Promise.all([startS3Server(), startPostgres()]);
let code = 1;
try {
  const { stop: _s3, ...s3Shared } = s3;
  const { stop: _pg, ...pgShared } = postgres;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
    {
      stdio: 'inherit',
      env: { ...process.env, [S3_ENV]: JSON.stringify(s3Shared), [POSTGRES_ENV]: JSON.stringify(pgShared) },
    },
  );
  code = await new Promise<number>((resolve) => child.on('close', (exit) => resolve(exit ?? 1)));
} finally {
  await Promise.all([s3.stop(), postgres.stop()]);
}
process.exit(code);
