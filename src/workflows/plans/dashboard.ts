// Dashboard streams (month slices of complete project-local days) and full-refresh snapshots.
import type { DashboardStream } from '../../activities/dashboard.ts';
import type { SnapshotStream } from '../../amplitude/records.ts';
import {
  calendarDayIn,
  DAY_MS,
  floorToDay,
  isoDate,
  isoInstant,
  parseIsoDate,
} from '../../amplitude/time.ts';
import { dashboardRange, monthSlices } from '../plan.ts';
import { activities, addNote, connectionField, countWritten, type PlanFactory } from './common.ts';

export const dashboardPlan: PlanFactory = (input, tuning, plannedAt, summary) => {
  const { settings } = input;
  const { dashboard } = activities(tuning);
  const stream = input.stream as DashboardStream;
  const range = dashboardRange({
    startDay: floorToDay(Date.parse(settings.startDate)),
    ...(input.state ? { completeBefore: parseIsoDate(input.state.completeBefore)! } : {}),
    lookbackDays: tuning.dashboardLookbackDays,
    firstIncompleteDay: calendarDayIn(plannedAt, settings.projectTimezone),
  });
  if (
    !input.carried &&
    range.end <= range.start &&
    floorToDay(Date.parse(settings.startDate)) >= range.start
  ) {
    addNote(
      summary,
      `nothing is due yet: start_date ${settings.startDate} is in the future; the first day is read once it has ended in ${settings.projectTimezone}`,
    );
  }
  return {
    range,
    initial: monthSlices(range),
    cut: monthSlices,
    cursor: isoDate,
    parseCursor: (cursor) => parseIsoDate(cursor)!,
    async run(slice) {
      const last = isoDate(slice.end - DAY_MS);
      try {
        const result = await dashboard.fetchDashboardSlice.executeWithOptions(
          { summary: `${stream} ${isoDate(slice.start)}..${last}` },
          [
            {
              ...connectionField(settings),
              runKey: input.runKey,
              destination: settings.destination,
              stream,
              start: isoDate(slice.start),
              end: isoDate(slice.end),
              groupByCountry: settings.activeUsersGroupByCountry,
            },
          ],
        );
        countWritten(summary, result.records, 1, result.bytes);
        if (result.missingDays)
          addNote(summary, `Amplitude returned no value for ${result.missingDays.join(', ')}`);
        return { kind: 'done' };
      } catch (error) {
        return { kind: 'failed', failure: error as Error };
      }
    },
  };
};

export const snapshotPlan: PlanFactory = (input, tuning, plannedAt, summary) => {
  const { dashboard } = activities(tuning);
  const range = { start: plannedAt, end: plannedAt + 1 };
  return {
    range,
    initial: [range],
    cut: (span) => [span],
    cursor: isoInstant,
    parseCursor: Date.parse,
    async run() {
      try {
        const result = await dashboard.fetchSnapshot.executeWithOptions(
          { summary: `${input.stream} snapshot` },
          [
            {
              ...connectionField(input.settings),
              runKey: input.runKey,
              destination: input.settings.destination,
              stream: input.stream as SnapshotStream,
            },
          ],
        );
        countWritten(summary, result.records, 1, result.bytes);
        return { kind: 'done' };
      } catch (error) {
        return { kind: 'failed', failure: error as Error };
      }
    },
  };
};
