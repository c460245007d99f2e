import { HOUR_MS } from '../amplitude/time.ts';
import { EVENT_TYPE_JSON, pickEventType, renderEventProperties } from './event-properties.ts';
import { NdjsonWriter } from './ndjson-writer.ts';
import { Permutation64, Random, seedOf, uuidFrom } from './random.ts';
import { TimestampFormatter } from './timestamps.ts';
import { createUsers, type UserFragments } from './users.ts';

const USER_COUNT = 4000;
const HOUR_MICROS = HOUR_MS * 1000;
const DAY_MICROS = 24 * HOUR_MICROS;
const CHUNK_BYTES = 256 * 1024;
const MAX_LINE_BYTES = 64 * 1024;

/**
 * Renders export lines: event `index` of an upload hour holding `count` events is a pure function
 * of (seed, project, hour, index, count). The 55 keys come in the alphabetical order Amplitude
 * sends them; what belongs to the user is copied from pre-encoded fragments.
 */
export class EventLineGenerator {
  private readonly users: UserFragments[];
  private readonly eventUuids: Permutation64;
  private readonly insertIds: Permutation64;
  private readonly timestamps = new TimestampFormatter();

  constructor(
    private readonly seed: number,
    projectId: number,
  ) {
    this.users = createUsers(seed, projectId, USER_COUNT);
    this.eventUuids = new Permutation64(seedOf(seed, 0x0001d));
    this.insertIds = new Permutation64(seedOf(seed, 0x1d5e));
  }

  /** NDJSON bytes (every line terminated by '\n') of events [from, to), in chunks of about `chunkBytes`. */
  *ndjsonChunks(
    hourStartMs: number,
    count: number,
    from = 0,
    to = count,
    chunkBytes = CHUNK_BYTES,
  ): Generator<Buffer> {
    const hourSeed = seedOf(this.seed, hourStartMs / HOUR_MS);
    const writer = new NdjsonWriter(chunkBytes, MAX_LINE_BYTES);
    for (let index = from; index < to; index++) {
      this.writeLine(writer, hourStartMs, hourSeed, index, count);
      const full = writer.endLine();
      if (full) yield full;
    }
    const rest = writer.take();
    if (rest) yield rest;
  }

  /** The same lines as text, without their '\n'. */
  *lines(hourStartMs: number, count: number, from = 0, to = count): Generator<string> {
    for (const chunk of this.ndjsonChunks(hourStartMs, count, from, to)) {
      const text = chunk.toString('utf8');
      yield* text.slice(0, -1).split('\n');
    }
  }

  /** When each event of an upload hour happened and was uploaded (epoch ms), in export order, without rendering. */
  eventTimesOfHour(hourStartMs: number, count: number): { eventMs: Float64Array; uploadMs: Float64Array } {
    const hourSeed = seedOf(this.seed, hourStartMs / HOUR_MS);
    const eventMs = new Float64Array(count);
    const uploadMs = new Float64Array(count);
    for (let index = 0; index < count; index++) {
      const timing = drawTiming(new Random(seedOf(hourSeed, index)), this.users, hourStartMs, index, count);
      eventMs[index] = Math.floor(timing.eventTimeMicros / 1000);
      uploadMs[index] = timing.uploadMicros / 1000;
    }
    return { eventMs, uploadMs };
  }

  private writeLine(
    out: NdjsonWriter,
    hourStartMs: number,
    hourSeed: number,
    index: number,
    count: number,
  ): void {
    const random = new Random(seedOf(hourSeed, index));
    const hourNumber = hourStartMs / HOUR_MS;
    const ts = this.timestamps;
    const {
      user,
      fromServer,
      uploadMicros,
      receivedMicros,
      clientUploadMicros,
      clientEventMicros,
      eventTimeMicros,
    } = drawTiming(random, this.users, hourStartMs, index, count);
    const processedMicros = uploadMicros + random.between(40_000, 4_000_000);

    const eventType = pickEventType(random);
    const insertId =
      fromServer && random.chance(0.3)
        ? 'null'
        : `"${uuidFrom(this.insertIds.apply(hourNumber, index), random)}"`;
    const sessionId = fromServer ? -1 : Math.floor(clientEventMicros / 1000) - random.int(1_800_000);

    out.ascii(`{"$insert_id":${insertId},"$insert_key":null,"$schema":null`);
    out.bytes(user.afterSchema);
    out.ascii(
      `,"client_event_time":"${ts.format(clientEventMicros)}","client_upload_time":"${ts.format(clientUploadMicros)}"`,
    );
    out.bytes(user.countryField);
    out.ascii(
      fromServer
        ? ',"data":{"path":"/2/httpapi","user_properties_updated":false,"group_first_event":{},"group_ids":{}}'
        : `,"data":{"path":"/batch","user_properties_updated":${random.chance(0.1)},"group_first_event":{},"group_ids":{}}`,
    );
    out.bytes(user.afterData);
    out.ascii(`,"event_id":${random.between(1, 5000)},"event_properties":`);
    out.text(renderEventProperties(eventType, { random, timestamps: ts, clientEventMicros }));
    out.ascii(`,"event_time":"${ts.format(eventTimeMicros)}","event_type":`);
    out.ascii(EVENT_TYPE_JSON[eventType]);
    out.bytes(fromServer ? user.afterEventTypeFromServer : user.afterEventTypeFromSdk);
    out.ascii(`,"processed_time":"${ts.format(processedMicros)}"`);
    out.bytes(user.afterProcessed);
    out.ascii(
      `,"server_received_time":"${ts.format(receivedMicros)}","server_upload_time":"${ts.format(uploadMicros)}","session_id":${sessionId}`,
    );
    out.bytes(user.afterSession);
    out.ascii(',"user_properties":');
    out.bytes(user.userPropertiesHead);
    out.ascii(
      `,"session_count":${random.between(1, 400)}},"uuid":"${uuidFrom(this.eventUuids.apply(hourNumber, index), random)}"`,
    );
    out.bytes(user.tail);
  }
}

/**
 * The first draws of an event: who sent it and when. Shared by rendering and by the event-time counts
 * of the Dashboard simulation, so both see the same times.
 */
function drawTiming(
  random: Random,
  users: UserFragments[],
  hourStartMs: number,
  index: number,
  count: number,
) {
  // Users are not equally active: squaring skews the pick towards low indexes.
  const user = users[Math.floor(random.float() ** 2 * USER_COUNT)]!;
  const fromServer = random.chance(0.05);

  const slotMicros = HOUR_MICROS / count;
  const uploadMs = Math.floor((hourStartMs * 1000 + (index + random.float()) * slotMicros) / 1000);
  const uploadMicros = uploadMs * 1000;
  const receivedMicros = uploadMicros - random.int(1500) * 1000;
  const clientUploadMicros = receivedMicros - random.int(2500) * 1000;
  const late = random.chance(0.02);
  const clientEventMicros = late
    ? clientUploadMicros - random.between(1, 9) * DAY_MICROS - random.int(86_400_000) * 1000
    : clientUploadMicros - random.int(120_000) * 1000;
  const eventTimeMicros = clientEventMicros + (receivedMicros - clientUploadMicros);
  return {
    user,
    fromServer,
    uploadMicros,
    receivedMicros,
    clientUploadMicros,
    clientEventMicros,
    eventTimeMicros,
  };
}
