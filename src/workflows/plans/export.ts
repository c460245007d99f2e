// The events stream: export windows over the upload hours old enough, plus one request per range of
// the re-check list (hours Amplitude answered 404 for in earlier syncs).
import { exportHourFailure, FailureType } from '../../amplitude/errors.ts';
import {
  DAY_MS,
  floorToHour,
  HOUR_MS,
  isoHour,
  isoInstant,
  parseHourInterval,
} from '../../amplitude/time.ts';
import { exportRange, exportWindows, hoursIn, type Span, splitWindow } from '../plan.ts';
import { isListed, planRecheck, recordAnswer, requestsFor } from '../recheck.ts';
import {
  activities,
  addNote,
  applicationCause,
  connectionField,
  countWritten,
  type PlanFactory,
} from './common.ts';

export const DEFAULT_RECHECK_DAYS = 7;

const windowName = (window: Span) => `${isoHour(window.start)}..${isoHour(window.end - HOUR_MS)}`;

export const exportPlan: PlanFactory = (input, tuning, plannedAt, summary) => {
  const { settings } = input;
  const { exporting } = activities(tuning);
  const recheckMs = (settings.exportRecheckDays ?? DEFAULT_RECHECK_DAYS) * DAY_MS;
  const closeBefore = plannedAt - settings.exportAvailabilityLagHours * HOUR_MS;
  const range = exportRange({
    startDate: Date.parse(settings.startDate),
    ...(input.state ? { completeBefore: Date.parse(input.state.completeBefore) } : {}),
    lookbackHours: settings.exportLookbackHours,
    closeBefore,
    windowHours: settings.requestTimeRangeHours,
  });
  const windowsOf = (span: Span) => exportWindows(span, settings.requestTimeRangeHours);

  let recheckAsks: Span[] = [];
  if (!input.carried) {
    // A later run of this workflow (continue-as-new) finds the list in the carried summary.
    const planned = planRecheck(input.state?.recheck, plannedAt, range.start);
    summary.recheck = planned.report;
    recheckAsks = planned.asks;
    if (planned.report.expired.length > 0) {
      addNote(
        summary,
        `left the re-check list still empty after ${settings.exportRecheckDays ?? DEFAULT_RECHECK_DAYS} days: ${planned.report.expired.join(', ')}`,
      );
    }
    const startDate = Date.parse(settings.startDate);
    if (floorToHour(startDate) >= floorToHour(closeBefore)) {
      addNote(
        summary,
        `nothing is due yet: start_date ${settings.startDate} is in the future, or within the ${settings.exportAvailabilityLagHours} h Amplitude needs before an hour can be exported; the first hour is read once it is past ${isoInstant(floorToHour(startDate) + HOUR_MS + settings.exportAvailabilityLagHours * HOUR_MS)}`,
      );
    }
  }

  return {
    range,
    initial: [...recheckAsks, ...windowsOf(range)],
    // Carried spans are merged: the part before the range is re-checks, the rest export windows.
    cut(span) {
      const recheck = { start: span.start, end: Math.min(span.end, range.start) };
      const windows = { start: Math.max(span.start, range.start), end: span.end };
      return [
        ...(recheck.end > recheck.start ? requestsFor(recheck) : []),
        ...(windows.end > windows.start ? windowsOf(windows) : []),
      ];
    },
    cursor: isoInstant,
    parseCursor: Date.parse,
    async run(window) {
      const name = windowName(window);
      const recheck = window.end <= range.start;
      // Hours on the list were asked twice already: a 404 for them needs no second ask now.
      const listed = isListed(summary.recheck?.pending, window);
      try {
        const result = await exporting.exportWindow.executeWithOptions(
          { summary: `events ${name} (${hoursIn(window)} h)${recheck ? ', asked again after a 404' : ''}` },
          [
            {
              ...connectionField(settings),
              runKey: input.runKey,
              destination: settings.destination,
              start: isoHour(window.start),
              end: isoHour(window.end),
              notFoundRetryDelayMs: tuning.notFoundRetryDelayMs,
              askTwiceOn404: !listed,
              hourTimeoutAttempts: tuning.hourTimeoutAttempts,
              hourTimeoutRetryMs: tuning.hourTimeoutRetryMs,
              projectTimezone: settings.projectTimezone,
            },
          ],
        );
        countWritten(summary, result.records, result.partitions, result.bytes);
        if (result.outsideWindow > 0) {
          addNote(
            summary,
            `${name}: Amplitude sent ${result.outsideWindow} events of other hours; they are read with their own hours`,
          );
        }
        const notFound = result.status !== 'complete';
        const hoursWritten = (result.hoursWritten ?? []).map((value) => parseHourInterval(value)!);
        summary.recheck = recordAnswer(
          summary.recheck ?? { pending: [], recovered: [], expired: [] },
          window,
          { notFound, hoursWritten },
          plannedAt,
          recheckMs,
        );
        if (notFound) {
          addNote(
            summary,
            `${name}: Amplitude answered 404${listed ? '' : ' twice'}; ${listed ? 'still' : 'put'} on the re-check list, asked again by later syncs`,
          );
        } else if (recheck && hoursWritten.length > 0) {
          addNote(summary, `${name}: data Amplitude did not serve before was found and written`);
        }
        return { kind: 'done' };
      } catch (error) {
        const cause = applicationCause(error);
        if (cause?.type !== FailureType.ExportWindowTooLarge)
          return { kind: 'failed', failure: error as Error };
        if (hoursIn(window) >= 2) {
          summary.splits++;
          return { kind: 'split', parts: splitWindow(window) };
        }
        // Activities of earlier versions left the one-hour case to the workflow.
        return { kind: 'failed', failure: exportHourFailure(isoHour(window.start), cause.message) };
      }
    },
  };
};
