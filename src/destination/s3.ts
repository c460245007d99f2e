// The s3 destination: the local layout as objects in any S3-compatible bucket, under a prefix. An hour
// is staged on the worker's disk, then uploaded with a multipart upload streamed from the staged file
// (s3-multipart.ts) that makes it visible only when complete; an upload that fails is aborted.
// Credentials come from the standard AWS chain on the worker.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CONTENT_TYPE,
  compressionOfPartition,
  compressRecords,
  decompressorFor,
  otherCodecPartition,
} from './codec.ts';
import {
  type Destination,
  DestinationError,
  type LeftoversRemoved,
  type PartitionWritten,
  type Receipt,
  type SyncManifest,
} from './destination.ts';
import { HourPartitionWriter } from './hour-partitions.ts';
import { connectionOf, manifestPath, receiptDir, receiptName } from './layout.ts';
import { latestManifestState, type ManifestStore, manifestEventCounts } from './manifest-counts.ts';
import { ownerTag } from './partition-files.ts';
import { uploadFile } from './s3-multipart.ts';
import type { Compression, S3Spec } from './spec.ts';
import { stagedName } from './staging.ts';

/** The S3 errors that come from the configuration or the rights, each with its fix. */
function configurationProblem(error: unknown, spec: S3Spec): string | undefined {
  const name = (error as { name?: string }).name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const bucket = `bucket "${spec.bucket}"${spec.endpoint ? ` at ${spec.endpoint}` : ''}`;
  if (name === 'NoSuchBucket' || (name === 'NotFound' && status === 404)) {
    return `the ${bucket} does not exist: create it, or fix destination.bucket (and destination.endpoint/region)`;
  }
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken'].includes(name)) {
    return `the ${bucket} refused the worker's AWS credentials (${name}): fix AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the AWS profile or the role of the worker`;
  }
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
    return `the worker's AWS credentials may not use the ${bucket} (access denied): grant them s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on it`;
  }
  if (
    name === 'CredentialsProviderError' ||
    /Could not load credentials/i.test((error as Error).message ?? '')
  ) {
    return 'the worker has no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or give it a role';
  }
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
    return `the ${bucket} is in another region: set destination.region to the bucket's region`;
  }
  return undefined;
}

export class S3Destination implements Destination, ManifestStore {
  readonly location: string;
  readonly #owner: string;

  constructor(
    private readonly client: S3Client,
    private readonly spec: S3Spec,
    runKey: string,
    private readonly staging: string,
  ) {
    this.location = `s3://${spec.bucket}/${spec.prefix}`;
    this.#owner = ownerTag(runKey);
  }

  get compression(): Compression {
    return this.spec.compression ?? 'gzip';
  }

  #key(relative: string): string {
    return `${this.spec.prefix}${relative}`;
  }

  /** Runs one S3 call; configuration problems become a DestinationError naming the fix. */
  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const problem = configurationProblem(error, this.spec);
      if (problem) throw new DestinationError(`${what}: ${problem}`);
      throw error;
    }
  }

  async check(): Promise<void> {
    // A listing, not a HEAD: its error has a body that tells a missing bucket from bad credentials.
    await this.#call('checking the bucket', () =>
      this.client.send(
        new ListObjectsV2Command({ Bucket: this.spec.bucket, Prefix: this.spec.prefix, MaxKeys: 1 }),
      ),
    );
    const probe = this.#key(`.write-probe.${this.#owner}.tmp`);
    await this.#call('writing a probe object', () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.spec.bucket, Key: probe, Body: 'amplitude-sync' }),
      ),
    );
    await this.#call('removing the probe object', () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.spec.bucket, Key: probe })),
    );
  }

  hourWriter(tag: string): HourPartitionWriter {
    return new HourPartitionWriter({
      stagingPath: (partition, part) =>
        join(this.staging, stagedName(partition, `${this.#owner}-${tag}`, part)),
      publish: async (staged) => {
        try {
          await this.#call(`uploading ${staged.partition}`, () =>
            uploadFile(
              {
                client: this.client,
                bucket: this.spec.bucket,
                key: this.#key(staged.partition),
                contentType: CONTENT_TYPE[this.compression],
              },
              staged.path,
            ),
          );
          await this.#removeOtherCodec(staged.partition);
        } finally {
          await rm(staged.path, { force: true });
        }
      },
      compression: this.compression,
    });
  }

  async replacePartition(partition: string, records: readonly object[]): Promise<PartitionWritten> {
    const bytes = await compressRecords(partition, records);
    await this.#put(partition, bytes, CONTENT_TYPE[compressionOfPartition(partition)]);
    await this.#removeOtherCodec(partition);
    return { partition, records: records.length, bytes: bytes.length };
  }

  /**
   * The partition in the other codec, written before the destination's compression changed. Only
   * when the config names a compression: a destination that never chose one pays no extra request.
   */
  async #removeOtherCodec(partition: string): Promise<void> {
    if (!this.spec.compression) return;
    const other = otherCodecPartition(partition);
    await this.#call(`removing ${other}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.spec.bucket, Key: this.#key(other) })),
    );
  }

  async #put(relative: string, body: string | Uint8Array, contentType: string): Promise<void> {
    await this.#call(`writing ${relative}`, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.spec.bucket,
          Key: this.#key(relative),
          Body: body,
          ContentType: contentType,
        }),
      ),
    );
  }

  async #get(relative: string): Promise<Readable> {
    const object = await this.#call(`reading ${relative}`, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.spec.bucket, Key: this.#key(relative) })),
    );
    return object.Body as Readable;
  }

  async #getText(relative: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.#get(relative)) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Keys under a prefix (relative to the destination's prefix), and the "directories" below it. */
  async #list(relative: string, delimiter?: string): Promise<{ keys: string[]; directories: string[] }> {
    const keys: string[] = [];
    const directories: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#call(`listing ${relative}`, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.spec.bucket,
            Prefix: this.#key(relative),
            ...(delimiter ? { Delimiter: delimiter } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const object of page.Contents ?? []) keys.push(object.Key!.slice(this.spec.prefix.length));
      for (const prefix of page.CommonPrefixes ?? [])
        directories.push(prefix.Prefix!.slice(this.spec.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { keys, directories };
  }

  async #deleteAll(relativeKeys: string[]): Promise<void> {
    for (let i = 0; i < relativeKeys.length; i += 1000) {
      const batch = relativeKeys.slice(i, i + 1000);
      await this.#call('deleting objects', () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.spec.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.#key(key) })), Quiet: true },
          }),
        ),
      );
    }
  }

  async writeReceipt(runKey: string, receipt: Receipt): Promise<void> {
    await this.#put(
      `${receiptDir(runKey)}/${receiptName(receipt)}`,
      JSON.stringify(receipt),
      'application/json',
    );
  }

  async readReceipts(runKey: string): Promise<Receipt[]> {
    const { keys } = await this.#list(`${receiptDir(runKey)}/`);
    const names = keys.filter((key) => key.endsWith('.json')).sort();
    return Promise.all(names.map(async (key) => JSON.parse(await this.#getText(key)) as Receipt));
  }

  async writeManifest(runKey: string, manifest: SyncManifest): Promise<string> {
    const relative = manifestPath(runKey);
    await this.#put(relative, `${JSON.stringify(manifest, null, 2)}\n`, 'application/json');
    const { keys } = await this.#list(`${receiptDir(runKey)}/`);
    await this.#deleteAll(keys);
    return `s3://${this.spec.bucket}/${this.#key(relative)}`;
  }

  eventCounts(runKey: string, from: number, to: number): Promise<Map<number, number>> {
    return manifestEventCounts(this, runKey, from, to);
  }

  latestState(connection: string): Promise<unknown> {
    return latestManifestState(this, connection);
  }

  async listManifests(connection: string): Promise<string[]> {
    const { keys } = await this.#list(`_manifests/${connection}/`, '/');
    return keys
      .map((key) => key.slice(`_manifests/${connection}/`.length))
      .filter((name) => name.endsWith('.json'))
      .sort()
      .reverse();
  }

  async readManifest(connection: string, name: string): Promise<unknown> {
    return JSON.parse(await this.#getText(`_manifests/${connection}/${name}`));
  }

  async exists(relative: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.spec.bucket, Key: this.#key(relative) }));
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return false;
      const problem = configurationProblem(error, this.spec);
      if (problem) throw new DestinationError(`checking ${relative}: ${problem}`);
      throw error;
    }
  }

  async countRecords(partition: string): Promise<number | undefined> {
    if (!(await this.exists(partition))) return undefined;
    let lines = 0;
    for await (const chunk of (await this.#get(partition)).pipe(decompressorFor(partition))) {
      for (const byte of chunk as Buffer) if (byte === 0x0a) lines++;
    }
    return lines;
  }

  /**
   * Aborts the multipart uploads left under the prefix (an upload of a worker that died), and removes
   * the receipts of the connection's syncs that never wrote a manifest. A prefix belongs to one
   * connection, and one sync of a connection runs at a time, so no live upload is under it now.
   */
  async removeLeftovers(keepRunKey: string): Promise<LeftoversRemoved> {
    const removed: LeftoversRemoved = { files: 0, bytes: 0, receiptDirs: 0 };
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.#call('listing unfinished uploads', () =>
        this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.spec.bucket,
            Prefix: this.spec.prefix,
            ...(keyMarker ? { KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker } : {}),
          }),
        ),
      );
      for (const upload of page.Uploads ?? []) {
        await this.#call('aborting an unfinished upload', () =>
          this.client.send(
            new AbortMultipartUploadCommand({
              Bucket: this.spec.bucket,
              Key: upload.Key!,
              UploadId: upload.UploadId!,
            }),
          ),
        );
        removed.files++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    const connection = connectionOf(keepRunKey);
    const keep = `_manifests/${connection}/${keepRunKey.slice(connection.length + 1)}.parts/`;
    const { directories } = await this.#list(`_manifests/${connection}/`, '/');
    for (const directory of directories.filter((name) => name.endsWith('.parts/') && name !== keep)) {
      const { keys } = await this.#list(directory);
      await this.#deleteAll(keys);
      removed.receiptDirs++;
    }
    return removed;
  }
}
