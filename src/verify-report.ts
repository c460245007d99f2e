// The count reconciliation as a person reads it on a terminal.
import type { DayReport } from './activities/reconcile.ts';
import type { VerifyResult } from './workflows/verify.ts';

const number = (value: number) => value.toLocaleString('en-US');

function percent(day: DayReport): string {
  if (day.amplitude === 0) return '';
  const value = (100 * day.difference) / day.amplitude;
  return `, ${value > 0 ? '+' : ''}${value.toFixed(1)}%`;
}

export function formatVerifyReport(result: VerifyResult): string {
  if (!result.from || !result.to) {
    return 'no complete day to compare yet: the events watermark is still in the first day after start_date';
  }
  const days = result.matching + result.differing.length;
  const { percent: pct, absolute, hourMinimum } = result.tolerance;
  const lines = [
    `compared ${result.from}..${result.to} (${days} project-local days) with Amplitude's daily totals of all events: ` +
      `${result.matching} within tolerance, ${result.differing.length} differ ` +
      `(exported ${number(result.exported)}, Amplitude ${number(result.amplitude)})`,
  ];
  for (const day of result.differing) {
    lines.push(
      `  ${day.date}: Amplitude counts ${number(day.amplitude)}, exported ${number(day.exported)} (${day.difference > 0 ? '+' : ''}${number(day.difference)}${percent(day)})`,
    );
    if (day.hours.length > 0) {
      lines.push(
        `    hours most likely affected (UTC upload hour: Amplitude / exported): ${day.hours
          .map((hour) => `${hour.hour} ${number(hour.amplitude)}/${number(hour.exported)}`)
          .join(', ')}`,
      );
    }
  }
  if (result.recheck.length > 0) {
    lines.push(
      `  ${result.recheck.length} range(s) of hours without any exported event go back on the re-check list: the next \`amplitude-sync sync\` of this connection asks Amplitude for them again`,
    );
  }
  lines.push(
    `tolerance: a day differs when the counts differ by more than ${absolute} events or ${pct}%, or when an hour Amplitude counts ${hourMinimum}+ events for has under half of them exported. ` +
      'Exact equality is not expected: Amplitude counts by event_time in the project time zone, the export files by server_upload_time, and late events move between days.',
  );
  return lines.join('\n');
}
