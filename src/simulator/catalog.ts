// Static vocabulary of the simulated project: places, devices, event types, texts.
// Text deliberately includes what breaks naive pipelines: non-Latin scripts, astral-plane emoji,
// ZWJ sequences, quotes and backslashes, and raw U+2028/U+2029 (legal in JSON, line breaks to some readers).

export interface City {
  city: string;
  region: string;
  dma: string | null;
  lat: number;
  lng: number;
}

export interface Country {
  /** null for users without GeoIP data; the dashboard labels them "(none)". */
  country: string | null;
  language: string;
  weight: number;
  cities: City[];
  ipPrefix: string;
}

export const NO_COUNTRY_LABEL = '(none)';

export const COUNTRIES: Country[] = [
  {
    country: 'United States',
    language: 'English',
    weight: 34,
    ipPrefix: '198.51.100.',
    cities: [
      {
        city: 'San Francisco',
        region: 'California',
        dma: 'San Francisco-Oakland-San Jose, CA',
        lat: 37.7749,
        lng: -122.4194,
      },
      { city: 'New York', region: 'New York', dma: 'New York, NY', lat: 40.7128, lng: -74.006 },
      { city: 'Austin', region: 'Texas', dma: 'Austin, TX', lat: 30.2672, lng: -97.7431 },
    ],
  },
  {
    country: 'Germany',
    language: 'German',
    weight: 16,
    ipPrefix: '203.0.113.',
    cities: [
      { city: 'Berlin', region: 'Land Berlin', dma: null, lat: 52.52, lng: 13.405 },
      { city: 'München', region: 'Bavaria', dma: null, lat: 48.1351, lng: 11.582 },
    ],
  },
  {
    country: 'Japan',
    language: 'Japanese',
    weight: 12,
    ipPrefix: '192.0.2.',
    cities: [
      { city: '東京', region: 'Tokyo', dma: null, lat: 35.6762, lng: 139.6503 },
      { city: '大阪市', region: 'Osaka', dma: null, lat: 34.6937, lng: 135.5023 },
    ],
  },
  {
    country: 'Brazil',
    language: 'Portuguese',
    weight: 12,
    ipPrefix: '100.64.12.',
    cities: [
      { city: 'São Paulo', region: 'São Paulo', dma: null, lat: -23.5505, lng: -46.6333 },
      { city: 'Rio de Janeiro', region: 'Rio de Janeiro', dma: null, lat: -22.9068, lng: -43.1729 },
    ],
  },
  {
    country: 'Côte d’Ivoire',
    language: 'French',
    weight: 6,
    ipPrefix: '100.64.77.',
    cities: [{ city: 'Abidjan', region: 'Abidjan', dma: null, lat: 5.36, lng: -4.0083 }],
  },
  {
    country: 'Denmark',
    language: 'Danish',
    weight: 4,
    ipPrefix: '100.64.91.',
    cities: [{ city: 'Ærøskøbing', region: 'South Denmark', dma: null, lat: 54.888, lng: 10.4122 }],
  },
  {
    country: null,
    language: 'English',
    weight: 6,
    ipPrefix: '10.0.0.',
    cities: [],
  },
];

export interface DeviceProfile {
  platform: string;
  osNames: string[];
  osVersions: string[];
  deviceFamily: string;
  deviceTypes: string[];
  library: string;
  carriers: (string | null)[];
  versionNames: (string | null)[];
}

export const DEVICE_PROFILES: DeviceProfile[] = [
  {
    platform: 'Web',
    osNames: ['Chrome', 'Safari', 'Firefox', 'Edge'],
    osVersions: ['122', '17.3', '123', '121'],
    deviceFamily: 'Mac',
    deviceTypes: ['Mac', 'Windows', 'Linux'],
    library: 'amplitude-ts/2.5.0',
    carriers: [null],
    versionNames: [null],
  },
  {
    platform: 'iOS',
    osNames: ['ios'],
    osVersions: ['17.3.1', '17.4', '16.7.5'],
    deviceFamily: 'Apple iPhone',
    deviceTypes: ['Apple iPhone 15 Pro', 'Apple iPhone 13', 'Apple iPhone SE (3rd generation)'],
    library: 'amplitude-swift/1.4.2',
    carriers: ['Verizon', 'T-Mobile', 'NTT docomo', 'Vivo', null],
    versionNames: ['5.2.0', '5.1.3', '5.0.0'],
  },
  {
    platform: 'Android',
    osNames: ['android'],
    osVersions: ['14', '13', '12'],
    deviceFamily: 'Samsung Phone',
    deviceTypes: ['Samsung Galaxy S23', 'Google Pixel 8', 'Xiaomi Redmi Note 12'],
    library: 'amplitude-android/1.12.0',
    carriers: ['Vodafone', 'Orange CI', 'Claro', 'Telekom.de', null],
    versionNames: ['5.2.0', '5.1.3'],
  },
];

export const SERVER_LIBRARY = 'http/2.0';

export const PLANS = ['free', 'starter', 'pro', 'enterprise'];
export const COMPANIES = [
  'Acme GmbH',
  'Globex Corporation',
  'Initech',
  'Société Générale de Café',
  '株式会社サンプル',
];
export const UTM_SOURCES = ['google', 'newsletter', 'linkedin', 'partner-🚀-program', null];
export const REFERRERS = [
  'https://www.google.com/',
  'https://news.ycombinator.com/item?id=39571234',
  'https://example.org/blog/2024/03/launch?utm_campaign=spring&lang=de',
  null,
];

/** Free text found in real event properties. */
export const FREE_TEXTS = [
  'Hello world',
  'Zoë’s naïve café ☕ order',
  'Größenänderung fehlgeschlagen – bitte später erneut versuchen',
  'こんにちは、世界！日本語のテキスト',
  'مرحبا بالعالم',
  'Party time 🎉🎉 with the family 👨‍👩‍👧‍👦 and thumbs 👍🏽',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters and 🀄 tiles',
  'first line\u2028second line\u2029third paragraph',
  'She said "ship it" and left C:\\Users\\zoe\\Desktop',
  'tab\tseparated\nand a newline',
  'Ceci n’est pas une pipe',
  'Ærøskøbing → København',
];

export const SEARCH_QUERIES = [
  'pricing',
  'café crème',
  'how to export data',
  '東京 ホテル',
  'emoji 🔥 search',
  'invoice "2024"',
  'säkerhet',
];

export const PAGE_PATHS = [
  '/',
  '/pricing',
  '/docs/export',
  '/blog/launch-week',
  '/settings/billing',
  '/app/dashboard',
];
export const PAGE_TITLES = [
  'Home',
  'Pricing — Plans & Tarife',
  'Export API · Docs',
  'Launch week 🚀',
  'Billing settings',
  'Dashboard',
];

export const EVENT_TYPES = [
  { name: 'Page Viewed', weight: 30 },
  { name: 'Button Clicked', weight: 14 },
  { name: 'Search Performed', weight: 8 },
  { name: 'Message Sent', weight: 8 },
  { name: 'Video Played', weight: 6 },
  { name: 'Purchase Completed', weight: 4 },
  { name: 'Settings Changed', weight: 4 },
  { name: 'Record Imported', weight: 5 },
  { name: 'Error Shown', weight: 4 },
  { name: 'Experiment Exposure', weight: 6 },
  { name: 'Signed Up', weight: 2 },
  { name: '[Amplitude] Start Session', weight: 6 },
  { name: 'session_end', weight: 3 },
] as const;

export type EventTypeName = (typeof EVENT_TYPES)[number]['name'];

export const BUTTONS = ['upgrade', 'export', 'share', 'invite_teammate', 'dismiss'];
export const CURRENCIES = ['USD', 'EUR', 'JPY', 'BRL', 'XOF'];
export const EXPERIMENTS = ['new-onboarding', 'pricing-page-v2', 'dark-mode-default'];
export const VARIANTS = ['control', 'treatment', 'treatment-b'];
export const ERROR_CODES = ['E_TIMEOUT', 'E_NETWORK', 'E_QUOTA', 'E_UNKNOWN'];
export const IMPORT_SOURCES = ['legacy-crm', 'segment-replay', 'csv-upload'];
