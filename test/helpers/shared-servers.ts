// The S3 and PostgreSQL servers of a test run: started once by scripts/run-tests.ts and handed to
// every suite through the environment. A suite file run on its own starts its own, which stop when its
// process exits (they run under a watchdog).
import { type PostgresServer, startPostgres } from './postgres-server.ts';
import { type S3Server, startS3Server } from './s3-server.ts';

export const S3_ENV = 'AMPLITUDE_SYNC_TEST_S3';
export const POSTGRES_ENV = 'AMPLITUDE_SYNC_TEST_POSTGRES';

type Shared<T> = Omit<T, 'stop'>;

function fromEnv<T>(name: string): Shared<T> | undefined {
  const value = process.env[name];
  return value ? (JSON.parse(value) as Shared<T>) : undefined;
}

let s3: Promise<Shared<S3Server>> | undefined;
let pg: Promise<Shared<PostgresServer>> | undefined;

/** This run's S3 server; started here (and stopped after the suite) when no run shares one. */
export function sharedS3(): Promise<Shared<S3Server>> {
  s3 ??= (async () => {
    const given = fromEnv<S3Server>(S3_ENV);
    if (given) return given;
    return startS3Server();
  })();
  return s3;
}

export function sharedPostgres(): Promise<Shared<PostgresServer>> {
  pg ??= (async () => {
    const given = fromEnv<PostgresServer>(POSTGRES_ENV);
    if (given) return given;
    return startPostgres();
  })();
  return pg;
}
