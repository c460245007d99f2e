// What a person types to start a sync (the Temporal UI's "Start Workflow" form, a schedule, the CLI):
// a connection's name and a few overrides. Validated here, inside the workflow: a bad input fails the
// workflow at once, naming the field and the fix, instead of failing its workflow task in a loop.
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { isStreamName, STREAM_NAMES, type StreamName } from '../amplitude/streams.ts';
import { parseStartDate, START_DATE_FORMS } from '../amplitude/time.ts';

export const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

const requestSchema = z.strictObject({
  connection: z
    .string({ error: 'connection must be the name of a connection, in quotes, such as "web-prod"' })
    .regex(CONNECTION_NAME, 'connection must be a name of letters, digits, "-", "_" or "." (up to 63)')
    .optional(),
  streams: z
    .array(z.string(), { error: `streams must be a list of stream names: ${STREAM_NAMES.join(', ')}` })
    .min(1, `streams is empty: list at least one of ${STREAM_NAMES.join(', ')}, or leave it out for all`)
    .superRefine((names, ctx) => {
      for (const name of names.filter((name) => !isStreamName(name))) {
        ctx.addIssue({ code: 'custom', message: `unknown stream "${name}": use ${STREAM_NAMES.join(', ')}` });
      }
    })
    .optional(),
  full_refresh: z.boolean({ error: 'full_refresh must be true or false (without quotes)' }).optional(),
  start_date: z
    .string({ error: `start_date must be a time in quotes: ${START_DATE_FORMS}` })
    .refine((value) => parseStartDate(value) !== undefined, {
      error: `start_date is not a valid time: ${START_DATE_FORMS}`,
    })
    .optional(),
});

/** `{"connection": "web-prod"}` and optional overrides; `{}` when the worker serves one connection. */
export interface SyncRequest {
  connection?: string;
  streams?: StreamName[];
  full_refresh?: boolean;
  /** Where streams without a state start (RFC 3339 or a bare UTC date), instead of the connection's. */
  start_date?: string;
}

export const REQUEST_FIELDS = Object.keys(requestSchema.shape);

// The internal shape (resolved settings), as earlier versions and the command line start it: checked
// only as far as the workflow relies on it, so that no such input can crash a workflow task.
const internalSchema = z.looseObject({
  settings: z.looseObject({
    connection: z.string().optional(),
    streams: z.array(z.enum(STREAM_NAMES)).min(1),
    startDate: z.string().refine((value) => parseStartDate(value) !== undefined, 'not an RFC 3339 time'),
    requestTimeRangeHours: z.number().int().min(1).max(8760),
    activeUsersGroupByCountry: z.boolean(),
    exportAvailabilityLagHours: z.number().min(0),
    exportLookbackHours: z.number().min(0),
    exportRecheckDays: z.number().int().min(1).optional(),
    projectTimezone: z.string().min(1),
    destination: z.union([z.string().min(1), z.looseObject({ type: z.enum(['local', 's3', 'postgres']) })]),
    tuning: z.looseObject({}).optional(),
  }),
  state: z.looseObject({ streams: z.looseObject({}) }).optional(),
  initialState: z.looseObject({ streams: z.looseObject({}) }).optional(),
  fullRefresh: z.boolean().optional(),
});

function invalid(error: z.ZodError, example: string): ApplicationFailure {
  const problems = error.issues.map((issue) => {
    const field = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((key) => `${key}: unknown field; the fields are ${REQUEST_FIELDS.join(', ')}`)
        .join('; ');
    }
    if (!field) {
      return `the input must be a JSON object such as {"connection": "web-prod"} (fields: ${REQUEST_FIELDS.join(', ')})`;
    }
    return `${field}: ${issue.message}`;
  });
  return ApplicationFailure.create({
    type: 'InvalidSyncInput',
    nonRetryable: true,
    message: `The sync input is invalid, nothing was started: ${problems.join('; ')}. ${example}`,
  });
}

const REQUEST_EXAMPLE =
  'Start a sync with {"connection": "<name>"} and, if wanted, "streams": ["events"], "full_refresh": true, "start_date": "2024-01-01".';

/** The request, or a non-retryable failure that names each bad field and its fix. */
export function parseSyncRequest(raw: unknown): SyncRequest {
  const result = requestSchema.safeParse(raw ?? {});
  if (result.success) return result.data as SyncRequest;
  throw invalid(result.error, REQUEST_EXAMPLE);
}

/** The internal input, or a non-retryable failure naming what is wrong with it. */
export function checkedSyncInput<T>(raw: T): T {
  const result = internalSchema.safeParse(raw);
  if (result.success) return raw;
  throw invalid(result.error, `Resolved settings are for the command line; ${REQUEST_EXAMPLE}`);
}
