import {
  COMPANIES,
  COUNTRIES,
  DEVICE_PROFILES,
  PLANS,
  REFERRERS,
  SERVER_LIBRARY,
  UTM_SOURCES,
} from './catalog.ts';
import { Permutation64, Random, seedOf, uuidFrom } from './random.ts';

const json = JSON.stringify;

const FRAGMENT_NAMES = [
  // `,"adid":…` through `,"city":…`
  'afterSchema',
  // `,"country":…`
  'countryField',
  // `,"data_type":…` through `,"dma":…`
  'afterData',
  // `,"global_user_properties":…` through `,"platform":…`, as sent by the user's SDK
  'afterEventTypeFromSdk',
  // the same, for events the customer's backend sent through the HTTP API
  'afterEventTypeFromServer',
  // `,"region":…,"sample_rate":null`
  'afterProcessed',
  // `,"source_id":…` through `,"user_id":…`
  'afterSession',
  // `{"plan":…` — user_properties without its per-event tail and closing brace
  'userPropertiesHead',
  // `,"version_name":…}`
  'tail',
] as const;

/**
 * A simulated user (with one device) as it appears in events: everything about the user that an
 * event repeats, serialised and UTF-8 encoded once, as the JSON fragments that sit between the
 * per-event keys of an export line.
 */
export type UserFragments = Record<(typeof FRAGMENT_NAMES)[number], Uint8Array>;

function encodeFragments(fragments: Record<keyof UserFragments, string>): UserFragments {
  const encoded = {} as UserFragments;
  for (const name of FRAGMENT_NAMES) encoded[name] = Buffer.from(fragments[name], 'utf8');
  return encoded;
}

function pickWeighted<T extends { weight: number }>(random: Random, items: readonly T[]): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let ticket = random.float() * total;
  for (const item of items) {
    ticket -= item.weight;
    if (ticket < 0) return item;
  }
  return items[items.length - 1]!;
}

export function createUsers(seed: number, projectId: number, count: number): UserFragments[] {
  const deviceIds = new Permutation64(seedOf(seed, 0xde71ce));
  const users: UserFragments[] = [];
  for (let index = 0; index < count; index++) {
    const random = new Random(seedOf(seed, 0x05e5, index));
    const country = pickWeighted(random, COUNTRIES);
    const city = country.cities.length > 0 ? random.pick(country.cities) : undefined;
    const device = random.pick(DEVICE_PROFILES);
    const osIndex = random.int(device.osNames.length);
    const deviceUuid = uuidFrom(deviceIds.apply(0, index), random);
    const deviceId =
      device.platform === 'iOS'
        ? deviceUuid.toUpperCase()
        : device.platform === 'Android'
          ? `${deviceUuid}R`
          : deviceUuid;
    const adid =
      device.platform === 'Android' && random.chance(0.4) ? uuidFrom([index, 0xad1d], random) : null;
    const idfa =
      device.platform === 'iOS' && random.chance(0.3)
        ? uuidFrom([index, 0x1dfa], random).toUpperCase()
        : null;
    const amplitudeId = 100_000_000_000 + (seed % 1_000_000) * 100_000 + index * 7;
    const anonymous = random.chance(0.18);
    const userId = anonymous
      ? null
      : random.chance(0.5)
        ? `user-${String(index).padStart(6, '0')}`
        : `u${index}@example.com`;
    const plan = random.pick(PLANS);
    const paying = plan === 'free' ? null : true;
    const company = random.chance(0.35) ? random.pick(COMPANIES) : null;
    const groups = company ? `{"company":[${json(company)}]}` : '{}';
    const groupProperties = company
      ? `{"company":{${json(company)}:{"tier":${json(plan)},"seats":${random.between(2, 400)}}}}`
      : '{}';
    const trackingPlan = random.chance(0.2)
      ? `{"branch":"main","source":"${device.platform.toLowerCase()}","version":"${random.between(3, 40)}"}`
      : '{}';
    const ip = `${country.ipPrefix}${random.between(1, 254)}`;
    const versionName = random.pick(device.versionNames);
    const startVersion = versionName && random.chance(0.5) ? '4.9.0' : versionName;
    const lat = city ? json(Number((city.lat + (random.float() - 0.5) / 10).toFixed(4))) : 'null';
    const lng = city ? json(Number((city.lng + (random.float() - 0.5) / 10).toFixed(4))) : 'null';
    const signupYear = 2019 + random.int(5);
    const signupDate = `${signupYear}-${String(random.between(1, 12)).padStart(2, '0')}-${String(random.between(1, 28)).padStart(2, '0')}`;

    const afterEventType = (library: string) =>
      `,"global_user_properties":null,"group_properties":${groupProperties},"groups":${groups}` +
      `,"idfa":${json(idfa)},"ip_address":${json(ip)},"is_attribution_event":null,"language":${json(country.language)}` +
      `,"library":${json(library)},"location_lat":${lat},"location_lng":${lng}` +
      `,"os_name":${json(device.osNames[osIndex])},"os_version":${json(device.osVersions[osIndex])}` +
      `,"partner_id":null,"paying":${json(paying)},"plan":${trackingPlan},"platform":${json(device.platform)}`;

    const userProperties: Record<string, unknown> = {
      plan,
      signup_date: signupDate,
      utm_source: random.pick(UTM_SOURCES),
    };
    if (userId?.includes('@')) userProperties.email = userId;
    if (company) userProperties.company = company;
    if (random.chance(0.15)) userProperties.initial_referrer = random.pick(REFERRERS);
    if (random.chance(0.1)) userProperties.interests = ['analytics', 'café ☕', 'data-🧪'];
    const userPropertiesJson = json(userProperties);

    const fragments = encodeFragments({
      afterSchema:
        `,"adid":${json(adid)},"amplitude_attribution_ids":null,"amplitude_event_type":null` +
        `,"amplitude_id":${amplitudeId},"app":${projectId},"city":${json(city?.city ?? null)}`,
      countryField: `,"country":${json(country.country)}`,
      afterData:
        `,"data_type":"event","device_brand":null,"device_carrier":${json(random.pick(device.carriers))}` +
        `,"device_family":${json(device.deviceFamily)},"device_id":${json(deviceId)},"device_manufacturer":null` +
        `,"device_model":null,"device_type":${json(device.deviceTypes[random.int(device.deviceTypes.length)])}` +
        `,"dma":${json(city?.dma ?? null)}`,
      afterEventTypeFromSdk: afterEventType(device.library),
      afterEventTypeFromServer: afterEventType(SERVER_LIBRARY),
      afterProcessed: `,"region":${json(city?.region ?? null)},"sample_rate":null`,
      afterSession: `,"source_id":null,"start_version":${json(startVersion)},"user_creation_time":null,"user_id":${json(userId)}`,
      userPropertiesHead: userPropertiesJson.slice(0, -1),
      tail: `,"version_name":${json(versionName)}}`,
    });
    users.push(fragments);
  }
  return users;
}
