import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Simulator } from '../../src/simulator/index.ts';
import { DATA_START, DAY_MS, get, getJson, HOUR_MS, hour, simulator } from './helpers.ts';

type Chart = {
  xValues: string[];
  series: number[][];
  seriesCollapsed: number[][];
  seriesLabels: (string | number)[];
  seriesMeta: { segmentIndex: number }[];
};

async function chart(sim: Simulator, path: string): Promise<Chart> {
  const { status, json } = await getJson(sim, path);
  assert.equal(status, 200, JSON.stringify(json));
  assert.deepEqual(Object.keys(json), ['data']);
  return json.data as Chart;
}

/** What a connector does with a chart: transpose `series` over `xValues`, labels from `seriesLabels`. */
function transpose(data: Chart) {
  return data.xValues.map((date, day) => ({
    date,
    statistics: Object.fromEntries(
      data.seriesLabels.map((label, row) => [String(label), data.series[row]![day]!]),
    ),
  }));
}

describe('Dashboard REST: active users', () => {
  let sim: Simulator;
  before(async () => {
    sim = await simulator({ now: hour(3, 12) });
  });
  after(() => sim.close());

  it('answers the ungrouped shape with the five keys of the real API', async () => {
    const data = await chart(sim, '/api/2/users?start=20240301&end=20240303&m=active&i=1');
    assert.deepEqual(Object.keys(data), [
      'xValues',
      'series',
      'seriesCollapsed',
      'seriesLabels',
      'seriesMeta',
    ]);
    assert.deepEqual(data.xValues, ['2024-03-01', '2024-03-02', '2024-03-03']);
    assert.equal(data.series.length, 1);
    assert.ok(data.series[0]!.every((count) => Number.isInteger(count) && count > 0));
    assert.deepEqual(data.seriesCollapsed, [[0]]);
    assert.deepEqual(data.seriesLabels, [0]);
    assert.deepEqual(data.seriesMeta, [{ segmentIndex: 0 }]);
    assert.deepEqual(transpose(data), sim.groundTruth.activeUsers('2024-03-01', '2024-03-03', false));
    assert.deepEqual(Object.keys(transpose(data)[0]!.statistics), ['0']);
  });

  it('answers one series per country with g=country, unicode names and "(none)" included', async () => {
    const data = await chart(sim, '/api/2/users?start=20240301&end=20240302&m=active&i=1&g=country');
    assert.ok(data.seriesLabels.includes('Côte d’Ivoire'));
    assert.ok(data.seriesLabels.includes('(none)'));
    assert.equal(data.series.length, data.seriesLabels.length);
    assert.deepEqual(
      data.seriesCollapsed,
      data.seriesLabels.map(() => [0]),
    );
    assert.deepEqual(
      data.seriesMeta,
      data.seriesLabels.map(() => ({ segmentIndex: 0 })),
    );
    assert.deepEqual(transpose(data), sim.groundTruth.activeUsers('2024-03-01', '2024-03-02', true));
    const ungrouped = await chart(sim, '/api/2/users?start=20240301&end=20240302');
    const sumOfCountries = data.xValues.map((_, day) => data.series.reduce((sum, row) => sum + row[day]!, 0));
    assert.deepEqual(ungrouped.series[0], sumOfCountries, 'countries partition the users');
  });

  it('is 0 before dataStart, partial and growing with the clock on the current day, fixed once it ended', async () => {
    const path = '/api/2/users?start=20240229&end=20240304&m=active&i=1';
    const noon = (await chart(sim, path)).series[0]!;
    assert.equal(noon[0], 0, 'the day before dataStart');
    sim.advance(6 * HOUR_MS);
    const evening = (await chart(sim, path)).series[0]!;
    assert.ok(evening[4]! > noon[4]!, 'the current day grows');
    assert.deepEqual(evening.slice(0, 4), noon.slice(0, 4), 'ended days do not change');
    sim.advance(DAY_MS);
    const nextDay = (await chart(sim, path)).series[0]!;
    sim.advance(DAY_MS);
    assert.deepEqual((await chart(sim, path)).series[0], nextDay, 'once ended, a day keeps its value');
    sim.setNow(hour(3, 12));
  });

  it('answers 400 with the JSON error envelope for bad or missing dates', async () => {
    for (const query of [
      'start=20240301',
      'start=2024-03-01&end=20240302',
      'start=20240302&end=20240301',
      'start=20240231&end=20240301',
    ]) {
      const { status, json } = await getJson(sim, `/api/2/users?${query}`);
      assert.equal(status, 400, query);
      assert.deepEqual(Object.keys((json.error as Record<string, unknown>) ?? {}), [
        'http_code',
        'type',
        'message',
        'metadata',
      ]);
      assert.equal((json.error as { http_code: number }).http_code, 400);
    }
  });
});

describe('Dashboard REST: project time zone and country grouping', () => {
  it('counts project-local days: at 23:00 UTC a UTC+2 project is already in the next day', async () => {
    const lateEvening = hour(1, 23);
    const utc = await simulator({ now: lateEvening });
    const plusTwo = await simulator({ now: lateEvening, projectTimeZoneOffsetMinutes: 120 });
    try {
      const path = '/api/2/users?start=20240303&end=20240303';
      assert.deepEqual((await chart(utc, path)).series, [[0]]);
      assert.ok((await chart(plusTwo, path)).series[0]![0]! > 0);
    } finally {
      await Promise.all([utc.close(), plusTwo.close()]);
    }
  });

  it("answers Amplitude's 400 envelope for g=country when the project has no country grouping", async () => {
    const sim = await simulator({ countryGrouping: false });
    try {
      const response = await get(sim, '/api/2/users?start=20240301&end=20240302&m=active&i=1&g=country');
      assert.equal(response.status, 400);
      assert.deepEqual(JSON.parse(response.text), {
        error: {
          http_code: 400,
          type: 'invalid',
          message: 'Invalid chart definition',
          metadata: { details: 'Invalid user property country' },
        },
      });
      assert.equal((await get(sim, '/api/2/users?start=20240301&end=20240302')).status, 200);
    } finally {
      await sim.close();
    }
  });
});

describe('Dashboard REST: sessions, annotations, cohorts, event types', () => {
  let sim: Simulator;
  before(async () => {
    sim = await simulator({ now: DATA_START + 60 * DAY_MS });
  });
  after(() => sim.close());

  it('answers average session lengths in seconds, some days 0', async () => {
    const data = await chart(sim, '/api/2/sessions/average?start=20240301&end=20240429');
    assert.deepEqual(Object.keys(data), [
      'xValues',
      'series',
      'seriesCollapsed',
      'seriesLabels',
      'seriesMeta',
    ]);
    assert.equal(data.xValues.length, 60);
    assert.ok(data.series[0]!.some((length) => length === 0));
    assert.ok(data.series[0]!.some((length) => !Number.isInteger(length) && length > 60));
    assert.deepEqual(
      data.xValues.map((date, i) => ({ date, length: data.series[0]![i]! })),
      sim.groundTruth.averageSessionLength('2024-03-01', '2024-04-29'),
    );
  });

  it('lists annotations, some without details, and finds one by id', async () => {
    const { json } = await getJson(sim, '/api/2/annotations');
    const annotations = json.data as Array<Record<string, unknown>>;
    assert.deepEqual(annotations, sim.groundTruth.annotations());
    assert.ok(annotations.length >= 3);
    for (const annotation of annotations) {
      assert.deepEqual(Object.keys(annotation), ['id', 'date', 'label', 'details']);
      assert.ok(Number.isInteger(annotation.id));
      assert.match(annotation.date as string, /^\d{4}-\d{2}-\d{2}$/);
    }
    assert.ok(annotations.some((annotation) => annotation.details === null));
    const one = await getJson(sim, `/api/2/annotations?id=${annotations[1]!.id}`);
    assert.deepEqual(one.json, { data: [annotations[1]] });
    assert.equal((await get(sim, '/api/2/annotations?id=1')).status, 404);
  });

  it('lists cohorts with the documented fields, times as epoch-second integers', async () => {
    const { json } = await getJson(sim, '/api/3/cohorts');
    const cohorts = json.cohorts as Array<Record<string, unknown>>;
    assert.deepEqual(cohorts, sim.groundTruth.cohorts());
    for (const cohort of cohorts) {
      for (const field of [
        'appId',
        'archived',
        'definition',
        'description',
        'finished',
        'id',
        'name',
        'owners',
        'viewers',
        'published',
        'size',
        'type',
        'lastMod',
        'createdAt',
        'lastComputed',
        'hidden',
        'metadata',
        'view_count',
        'popularity',
        'last_viewed',
        'chart_id',
        'edit_id',
        'location_id',
        'is_predictive',
        'is_official_content',
        'shortcut_ids',
      ]) {
        assert.ok(field in cohort, field);
      }
      assert.equal(cohort.appId, 187520);
      for (const time of ['lastMod', 'createdAt', 'lastComputed']) {
        assert.ok(Number.isInteger(cohort[time]) && (cohort[time] as number) < 2_000_000_000, time);
      }
    }
  });

  it('lists event types with their documented and observed fields', async () => {
    const { json } = await getJson(sim, '/api/2/events/list');
    const types = json.data as Array<Record<string, unknown>>;
    assert.deepEqual(types, sim.groundTruth.eventsList());
    for (const type of types) {
      assert.deepEqual(Object.keys(type), [
        'id',
        'value',
        'name',
        'display',
        'totals',
        'totals_delta',
        'non_active',
        'deleted',
        'hidden',
        'flow_hidden',
        'autohidden',
        'clusters_hidden',
        'in_waitroom',
        'timeline_hidden',
      ]);
    }
    assert.ok(types.some((type) => type.value === 'Record Imported'));
  });
});

describe('Dashboard REST: concurrency limit', () => {
  it('answers 429 above dashboardConcurrency requests in flight per project, not counting exports', async () => {
    const sim = await simulator({ dashboardLatencyMs: 2000, eventsPerHour: 2 });
    try {
      const paths = [
        '/api/2/users?start=20240301&end=20240302',
        '/api/2/sessions/average?start=20240301&end=20240302',
        '/api/2/annotations',
        '/api/3/cohorts',
        '/api/2/events/list',
      ];
      const dashboard = Array.from({ length: 12 }, (_, i) => get(sim, paths[i % paths.length]!));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const duringTheBurst = await get(sim, '/api/2/export?start=20240301T00&end=20240301T01');
      const onTheEuProject = await get(sim, '/api/2/events/list', { region: 'eu' });
      const responses = await Promise.all(dashboard);
      const statuses = responses.map((response) => response.status);
      assert.equal(statuses.filter((status) => status === 200).length, 5, statuses.join(','));
      assert.equal(statuses.filter((status) => status === 429).length, 7);
      const limited = JSON.parse(responses.find((response) => response.status === 429)!.text);
      assert.equal(limited.error.http_code, 429);
      assert.match(limited.error.metadata.details, /5 concurrent requests/);
      assert.equal(duringTheBurst.status, 200, 'exports are not gated');
      assert.equal(onTheEuProject.status, 200, 'the EU keys are another project with its own limit');
      assert.equal((await get(sim, '/api/2/events/list')).status, 200, 'slots free up again');
    } finally {
      await sim.close();
    }
  });
});

describe('Dashboard REST: event segmentation totals of all events', () => {
  const ALL = encodeURIComponent('{"event_type":"_all"}');

  it('counts events by event time per day, late events on the day they happened, growing as they arrive', async () => {
    const sim = await simulator({ eventsPerHour: 30, now: hour(2, 0) });
    try {
      const data = await chart(
        sim,
        `/api/2/events/segmentation?e=${ALL}&m=totals&start=20240301&end=20240303&i=1`,
      );
      assert.deepEqual(data.xValues, ['2024-03-01', '2024-03-02', '2024-03-03']);
      assert.deepEqual(data.seriesLabels, [0]);
      const totals = data.series[0]!;
      assert.deepEqual(
        sim.groundTruth.dailyEventTotals('2024-03-01', '2024-03-03').map((day) => day.count),
        totals,
      );
      assert.equal(totals[2], 0, 'nothing happened on a day that has not begun');
      const uploaded = (day: number) =>
        sim.groundTruth.eventHours(hour(day, 0), hour(day + 1, 0)).reduce((sum, h) => sum + h.count, 0);
      // By upload time, the first day holds all 720; by event time some of them happened days earlier,
      // before the data began, and are missing from its total.
      assert.equal(uploaded(0), 720);
      assert.ok(totals[0]! < 720 && totals[0]! > 680, `first day ${totals[0]}`);
      // Later, late events of 2024-03-02 arrive and its total grows.
      sim.setNow(hour(12, 0));
      const later = await chart(
        sim,
        `/api/2/events/segmentation?e=${ALL}&m=totals&start=20240302&end=20240302`,
      );
      assert.ok(later.series[0]![0]! > totals[1]!, `${later.series[0]![0]} > ${totals[1]}`);
      assert.deepEqual(later.seriesCollapsed, [[{ setId: '', value: later.series[0]![0] }]]);
    } finally {
      await sim.close();
    }
  });

  it('answers hourly totals (i=-3600000) for up to 7 days, which add up to the daily ones', async () => {
    const sim = await simulator({ eventsPerHour: 30 });
    try {
      const daily = await chart(
        sim,
        `/api/2/events/segmentation?e=${ALL}&m=totals&start=20240302&end=20240302`,
      );
      const hourly = await chart(
        sim,
        `/api/2/events/segmentation?e=${ALL}&m=totals&start=20240302&end=20240302&i=-3600000`,
      );
      assert.equal(hourly.xValues.length, 24);
      assert.equal(hourly.xValues[5], '2024-03-02T05:00:00');
      assert.equal(
        hourly.series[0]!.reduce((sum, n) => sum + n, 0),
        daily.series[0]![0],
      );
      const tooLong = await getJson(
        sim,
        `/api/2/events/segmentation?e=${ALL}&m=totals&start=20240301&end=20240310&i=-3600000`,
      );
      assert.equal(tooLong.status, 400);
    } finally {
      await sim.close();
    }
  });

  it('refuses what it does not simulate with the 400 envelope, naming the parameter', async () => {
    const sim = await simulator();
    try {
      for (const [query, pattern] of [
        ['start=20240301&end=20240301&m=totals', /parameter e/],
        [
          `e=${encodeURIComponent('{"event_type":"Signed Up"}')}&start=20240301&end=20240301&m=totals`,
          /_all/,
        ],
        [`e=${ALL}&start=20240301&end=20240301`, /m=uniques/],
      ] as const) {
        const { status, json } = await getJson(sim, `/api/2/events/segmentation?${query}`);
        assert.equal(status, 400);
        assert.match(JSON.stringify(json), pattern);
      }
    } finally {
      await sim.close();
    }
  });
});
