import {
  BUTTONS,
  CURRENCIES,
  ERROR_CODES,
  EVENT_TYPES,
  type EventTypeName,
  EXPERIMENTS,
  FREE_TEXTS,
  IMPORT_SOURCES,
  PAGE_PATHS,
  PAGE_TITLES,
  SEARCH_QUERIES,
  VARIANTS,
} from './catalog.ts';
import type { Random } from './random.ts';
import { uuidFrom } from './random.ts';
import type { TimestampFormatter } from './timestamps.ts';

const json = JSON.stringify;
const DAY_MICROS = 86_400_000_000;

export interface PropertyContext {
  random: Random;
  timestamps: TimestampFormatter;
  clientEventMicros: number;
}

type Render = (context: PropertyContext) => string;

const money = (random: Random) => Math.round(random.float() * 50_000) / 100;

const RENDERERS: Record<EventTypeName, Render> = {
  'Page Viewed': ({ random }) => {
    const page = random.int(PAGE_PATHS.length);
    return `{"path":${json(PAGE_PATHS[page])},"title":${json(PAGE_TITLES[page])},"load_ms":${random.between(80, 4000)},"scroll_depth":${(random.float()).toFixed(2)},"viewport":{"width":${random.pick([390, 1280, 1440, 1920])},"height":${random.pick([844, 800, 900, 1080])}}}`;
  },
  'Button Clicked': ({ random }) =>
    `{"button":${json(random.pick(BUTTONS))},"location":{"page":${json(random.pick(PAGE_PATHS))},"section":"header"}}`,
  'Search Performed': ({ random }) =>
    `{"query":${json(random.pick(SEARCH_QUERIES))},"results":${random.int(200)},"filters":${json(['price', 'rating', 'date'].slice(0, random.int(4)))},"page":${random.between(1, 5)}}`,
  'Message Sent': ({ random }) =>
    `{"text":${json(random.pick(FREE_TEXTS))},"channel":${json(random.pick(['#general', '#support', '#随便聊聊']))},"length":${random.between(1, 2000)},"attachments":[]}`,
  'Video Played': ({ random }) =>
    `{"video_id":"vid_${random.uint32().toString(36)}","position_s":${(random.float() * 600).toFixed(1)},"quality":${json(random.pick(['480p', '720p', '1080p', '4K']))},"autoplay":${random.chance(0.3)}}`,
  'Purchase Completed': ({ random }) => {
    const quantity = random.between(1, 3);
    const price = money(random);
    return `{"order_id":"ord_${random.uint32().toString(36)}","revenue":${Math.round(price * quantity * 100) / 100},"currency":${json(random.pick(CURRENCIES))},"items":[{"sku":"SKU-${random.between(100, 999)}","quantity":${quantity},"price":${price},"name":${json(random.pick(FREE_TEXTS))}}],"coupon":${random.chance(0.2) ? '"SPRING24"' : 'null'}}`;
  },
  'Settings Changed': ({ random }) =>
    `{"changes":{"theme":{"from":"light","to":"dark"},"notifications":{"email":${random.chance(0.5)},"push":${random.chance(0.5)}}},"source":"settings_page"}`,
  // Look-alike keys: a connector must rewrite only the top-level timestamp fields, never these.
  'Record Imported': ({ random, timestamps, clientEventMicros }) => {
    const legacyMicros =
      clientEventMicros - random.between(30, 900) * DAY_MICROS - random.int(86_400) * 1_000_000;
    return `{"event_time":${json(timestamps.format(legacyMicros))},"uuid":${json(uuidFrom([random.uint32(), random.uint32()], random))},"server_upload_time":${json(timestamps.format(legacyMicros + 1_000_000))},"source":${json(random.pick(IMPORT_SOURCES))},"note":${json(random.pick(FREE_TEXTS))}}`;
  },
  'Error Shown': ({ random }) =>
    `{"code":${json(random.pick(ERROR_CODES))},"message":${json(random.pick(FREE_TEXTS))},"retryable":${random.chance(0.5)},"context":{"endpoint":"/api/v1/items","attempt":${random.between(1, 4)}}}`,
  'Experiment Exposure': ({ random }) =>
    `{"flag_key":${json(random.pick(EXPERIMENTS))},"variant":${json(random.pick(VARIANTS))},"[Experiment] Environment":"production"}`,
  'Signed Up': ({ random }) =>
    `{"method":${json(random.pick(['email', 'google', 'apple', 'sso']))},"referral_code":${random.chance(0.3) ? `"REF-${random.between(1000, 9999)}"` : 'null'},"welcome":${json(random.pick(FREE_TEXTS))}}`,
  '[Amplitude] Start Session': () => '{}',
  session_end: () => '{}',
};

export const EVENT_TYPE_JSON: Record<EventTypeName, string> = Object.fromEntries(
  EVENT_TYPES.map(({ name }) => [name, json(name)]),
) as Record<EventTypeName, string>;

const TOTAL_WEIGHT = EVENT_TYPES.reduce((sum, type) => sum + type.weight, 0);

export function pickEventType(random: Random): EventTypeName {
  let ticket = random.float() * TOTAL_WEIGHT;
  for (const type of EVENT_TYPES) {
    ticket -= type.weight;
    if (ticket < 0) return type.name;
  }
  return EVENT_TYPES[0].name;
}

export function renderEventProperties(type: EventTypeName, context: PropertyContext): string {
  return RENDERERS[type](context);
}
