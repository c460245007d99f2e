// Uploads a staged file as one S3 multipart upload whose parts are streamed from ranges of the file:
// memory is a few read buffers whatever the size, and no part is copied into a buffer of its own (a
// general uploader such as lib-storage's must buffer each part, since it cannot re-read its input).
// The object appears only when the upload completes; an upload that fails is aborted.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/** S3's least part size is 5 MiB; larger parts mean fewer requests. */
const PART_SIZE = 8 * 1024 * 1024;
/** S3 allows at most 10,000 parts: larger files get larger parts. */
const MAX_PARTS = 10_000;
const PARTS_IN_FLIGHT = 2;
/** A part is sent again (from the file) this many times before the upload fails. */
const PART_ATTEMPTS = 3;

export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  contentType: string;
}

function partSize(size: number): number {
  return Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS));
}

/** Errors that come from the request, not from the moment: sending again would not help. */
function permanent(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

async function uploadPart(
  target: UploadTarget,
  uploadId: string,
  path: string,
  number: number,
  start: number,
  end: number,
): Promise<CompletedPart> {
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await target.client.send(
        new UploadPartCommand({
          Bucket: target.bucket,
          Key: target.key,
          UploadId: uploadId,
          PartNumber: number,
          // A fresh stream per attempt: a stream that was partly sent cannot be sent again.
          Body: createReadStream(path, { start, end: end - 1 }),
          ContentLength: end - start,
        }),
      );
      return { PartNumber: number, ETag: answer.ETag };
    } catch (error) {
      if (attempt >= PART_ATTEMPTS || permanent(error)) throw error;
    }
  }
}

/** Uploads the file at `path` to the target; a file of one part or less is one PutObject. */
export async function uploadFile(target: UploadTarget, path: string): Promise<void> {
  const { size } = await stat(path);
  const part = partSize(size);
  if (size <= part) {
    await target.client.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: target.key,
        Body: createReadStream(path),
        ContentLength: size,
        ContentType: target.contentType,
      }),
    );
    return;
  }
  const { UploadId: uploadId } = await target.client.send(
    new CreateMultipartUploadCommand({
      Bucket: target.bucket,
      Key: target.key,
      ContentType: target.contentType,
    }),
  );
  try {
    const count = Math.ceil(size / part);
    const parts: CompletedPart[] = new Array(count);
    let next = 0;
    const sender = async () => {
      while (next < count) {
        const index = next++;
        const start = index * part;
        parts[index] = await uploadPart(
          target,
          uploadId!,
          path,
          index + 1,
          start,
          Math.min(size, start + part),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARTS_IN_FLIGHT, count) }, sender));
    await target.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: target.bucket,
        Key: target.key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (error) {
    await target.client
      .send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }))
      .catch(() => {}); // removeLeftovers aborts it at the end of the sync if this cannot
    throw error;
  }
}
