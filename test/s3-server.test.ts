// The S3 operations the s3 destination relies on, against a real S3-compatible server (S3Proxy over
// a local directory, test/helpers/s3-server.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { uploadFile } from '../src/destination/s3-multipart.ts';
import { type S3Server, startS3Server } from './helpers/s3-server.ts';

const MiB = 1024 * 1024;

describe('S3 server (S3Proxy, filesystem backend)', () => {
  let server: S3Server;
  let s3: S3Client;
  let buckets = 0;

  const clientWith = (secretAccessKey: string) =>
    new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey },
    });
  const newBucket = async () => {
    const Bucket = `bucket-${++buckets}`;
    await s3.send(new CreateBucketCommand({ Bucket }));
    return Bucket;
  };
  const put = (Bucket: string, Key: string, Body: string | Buffer = Key) =>
    s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  const read = async (Bucket: string, Key: string) =>
    Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());
  const keys = async (Bucket: string, Prefix?: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket, Prefix }))).Contents ?? []).map((o) => o.Key);
  const uploads = async (Bucket: string) =>
    ((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).map((u) => [
      u.Key,
      u.UploadId,
    ]);
  const s3Error = (name: string, status: number) => (error: unknown) => {
    assert.ok(error instanceof S3ServiceException, String(error));
    assert.equal(error.name, name);
    assert.equal(error.$metadata.httpStatusCode, status);
    return true;
  };

  before(async () => {
    server = await startS3Server();
    s3 = clientWith(server.secretAccessKey);
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  test('CreateBucket makes a folder in the data directory; HeadBucket finds it', async () => {
    assert.match(server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const Bucket = await newBucket();
    assert.equal((await s3.send(new HeadBucketCommand({ Bucket }))).$metadata.httpStatusCode, 200);
    assert.ok(existsSync(join(server.dataDir, Bucket)));
  });

  test('PutObject and GetObject round-trip bytes, content type and metadata', async () => {
    const Bucket = await newBucket();
    const body = Buffer.from([0, 1, 2, 255, 10, 13]);
    await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'dir/a b+c=é.bin',
        Body: body,
        ContentType: 'application/x-test',
        Metadata: { records: '42' },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'dir/a b+c=é.bin' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    assert.equal(got.ContentType, 'application/x-test');
    assert.deepEqual(got.Metadata, { records: '42' });
    assert.equal(got.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
    await put(Bucket, 'dir/a b+c=é.bin', 'replaced');
    assert.equal((await read(Bucket, 'dir/a b+c=é.bin')).toString(), 'replaced');
  });

  test('ListObjectsV2 filters by prefix and pages with MaxKeys', async () => {
    const Bucket = await newBucket();
    for (const key of ['a/1', 'a/2', 'a/3', 'a/4', 'a/5', 'ab', 'b/1']) await put(Bucket, key);
    assert.deepEqual(await keys(Bucket, 'a/'), ['a/1', 'a/2', 'a/3', 'a/4', 'a/5']);

    const pages: (string | undefined)[][] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket, Prefix: 'a/', MaxKeys: 2, ContinuationToken }),
      );
      pages.push((page.Contents ?? []).map((o) => o.Key));
      assert.equal(page.IsTruncated, pages.length < 3);
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    assert.deepEqual(pages, [['a/1', 'a/2'], ['a/3', 'a/4'], ['a/5']]);

    const delimited = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }));
    assert.deepEqual(
      delimited.Contents?.map((o) => o.Key),
      ['ab'],
    );
    assert.deepEqual(
      delimited.CommonPrefixes?.map((p) => p.Prefix),
      ['a/', 'b/'],
    );
  });

  test('DeleteObject and DeleteObjects remove objects', async () => {
    const Bucket = await newBucket();
    for (const key of ['x/1', 'x/2', 'x/3', 'x/4']) await put(Bucket, key);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'x/1' }));
    const deleted = await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [{ Key: 'x/2' }, { Key: 'x/3' }, { Key: 'x/none' }] },
      }),
    );
    assert.deepEqual(deleted.Errors ?? [], []);
    assert.deepEqual(await keys(Bucket), ['x/4']);
    await assert.rejects(read(Bucket, 'x/1'), s3Error('NoSuchKey', 404));
  });

  test('CopyObject copies within a bucket and across buckets', async () => {
    const Bucket = await newBucket();
    const other = await newBucket();
    await put(Bucket, 'staging/part', 'payload');
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'final/part', CopySource: `${Bucket}/staging/part` }));
    await s3.send(
      new CopyObjectCommand({ Bucket: other, Key: 'copy', CopySource: `${Bucket}/staging/part` }),
    );
    assert.equal((await read(Bucket, 'final/part')).toString(), 'payload');
    assert.equal((await read(other, 'copy')).toString(), 'payload');
    assert.deepEqual(await keys(Bucket), ['final/part', 'staging/part']);
  });

  test('a staged file is uploaded in parts streamed from the file, invisible until completed', async () => {
    const Bucket = await newBucket();
    const Key = 'events/big.jsonl.gz';
    const whole = Buffer.concat([
      Buffer.alloc(8 * MiB, 'a'),
      Buffer.alloc(8 * MiB, 'b'),
      Buffer.from('the last part'),
    ]);
    const path = join(await mkdtemp(join(tmpdir(), 's3-upload-')), 'staged');
    await writeFile(path, whole);
    let seenInProgress = false;
    const watching = clientWith(server.secretAccessKey);
    watching.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { PartNumber?: number };
        if (context.commandName === 'UploadPartCommand' && input.PartNumber === 3) {
          assert.deepEqual(await keys(Bucket), []);
          assert.deepEqual(
            (await uploads(Bucket)).map(([key]) => key),
            [Key],
          );
          seenInProgress = true;
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      await uploadFile({ client: watching, bucket: Bucket, key: Key, contentType: 'application/gzip' }, path);
    } finally {
      watching.destroy();
    }
    assert.ok(seenInProgress);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    assert.equal(head.ETag?.replaceAll('"', '').split('-')[1], '3');
    assert.equal(head.ContentLength, whole.length);
    assert.deepEqual(await uploads(Bucket), []);
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.equal(digest(await read(Bucket, Key)), digest(whole));
  });

  test('an upload whose part is refused is aborted: no object, no upload left', async () => {
    const Bucket = await newBucket();
    const Key = 'events/refused.jsonl.gz';
    const path = join(await mkdtemp(join(tmpdir(), 's3-upload-')), 'staged');
    await writeFile(path, Buffer.alloc(20 * MiB, 'x'));
    const failing = clientWith(server.secretAccessKey);
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        if (
          context.commandName === 'UploadPartCommand' &&
          (args.input as { PartNumber?: number }).PartNumber === 2
        ) {
          throw Object.assign(new Error('part refused'), { $metadata: { httpStatusCode: 400 } });
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      await assert.rejects(
        uploadFile({ client: failing, bucket: Bucket, key: Key, contentType: 'application/gzip' }, path),
        /part refused/,
      );
    } finally {
      failing.destroy();
    }
    assert.deepEqual(await uploads(Bucket), []);
    assert.deepEqual(await keys(Bucket), []);
  });

  test('CreateMultipartUpload, UploadPart, ListMultipartUploads, AbortMultipartUpload', async () => {
    const Bucket = await newBucket();
    const Key = 'events/aborted.jsonl';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    assert.ok(UploadId);
    await s3.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 'x') }),
    );
    assert.deepEqual(await uploads(Bucket), [[Key, UploadId]]);
    const parts = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.deepEqual(
      parts.Parts?.map((p) => [p.PartNumber, p.Size]),
      [[1, 5 * MiB]],
    );
    assert.deepEqual(await keys(Bucket), []);

    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    assert.deepEqual(await uploads(Bucket), []);
    assert.deepEqual(await keys(Bucket), []);
    await assert.rejects(read(Bucket, Key), s3Error('NoSuchKey', 404));
  });

  test('a wrong secret key is refused', async () => {
    const Bucket = await newBucket();
    const intruder = clientWith('not-the-secret');
    try {
      // One at a time: a second request started at once would be refused before anyone awaits it.
      for (const attempt of [
        () => intruder.send(new ListObjectsV2Command({ Bucket })),
        () => intruder.send(new PutObjectCommand({ Bucket, Key: 'x', Body: 'x' })),
      ]) {
        await assert.rejects(attempt(), (error) => {
          assert.ok(error instanceof S3ServiceException, String(error));
          assert.equal(error.$metadata.httpStatusCode, 403);
          assert.match(error.name, /^(SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId)$/);
          return true;
        });
      }
    } finally {
      intruder.destroy();
    }
    assert.deepEqual(await keys(Bucket), []);
  });

  test('a missing bucket is NoSuchBucket', async () => {
    await assert.rejects(
      s3.send(new ListObjectsV2Command({ Bucket: 'missing' })),
      s3Error('NoSuchBucket', 404),
    );
    await assert.rejects(put('missing', 'k'), s3Error('NoSuchBucket', 404));
    // HEAD responses have no body, so the SDK can only say NotFound.
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: 'missing' })), s3Error('NotFound', 404));
  });
});
