// Fast seeded pseudo-randomness: every simulated value is a pure function of (seed, coordinates).

const GOLDEN = 0x9e3779b9;

/** Murmur3's finalizer: a cheap, well-mixing bijection on 32-bit integers. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Mixes any number of integer coordinates into one 32-bit seed. */
export function seedOf(...parts: number[]): number {
  let h = 0x2545f491;
  for (const part of parts) {
    const low = part >>> 0;
    const high = Math.floor(part / 0x1_0000_0000) >>> 0;
    h = mix32(h ^ Math.imul(low, GOLDEN));
    h = mix32(h ^ Math.imul(high ^ 0x5bd1e995, GOLDEN));
  }
  return h;
}

/** FNV-1a over the UTF-16 code units, then mixed. */
export function hashString(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/** Mulberry32: tiny state, good enough statistics, very fast. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function hex8(n: number): string {
  return HEX_BYTE[n >>> 24]! + HEX_BYTE[(n >>> 16) & 255]! + HEX_BYTE[(n >>> 8) & 255]! + HEX_BYTE[n & 255]!;
}

export function hex4(n: number): string {
  return HEX_BYTE[(n >>> 8) & 255]! + HEX_BYTE[n & 255]!;
}

/**
 * A keyed permutation of 64-bit values given as two 32-bit halves (a 4-round Feistel network).
 * Distinct inputs give distinct outputs, which is what makes simulated UUIDs unique.
 */
export class Permutation64 {
  private readonly keys: number[];

  constructor(seed: number) {
    this.keys = [seedOf(seed, 1), seedOf(seed, 2), seedOf(seed, 3), seedOf(seed, 4)];
  }

  apply(high: number, low: number): [number, number] {
    let left = high >>> 0;
    let right = low >>> 0;
    for (const key of this.keys) {
      const next = (left ^ mix32(right ^ key)) >>> 0;
      left = right;
      right = next;
    }
    return [left, right];
  }
}

/**
 * A version-4-shaped UUID whose first 64 bits (minus the version nibble position) encode `unique`
 * bijectively, so distinct `unique` values always give distinct UUIDs; the rest is random filler.
 */
export function uuidFrom(unique: [number, number], random: Random): string {
  const [a, b] = unique;
  const variantWord = 0x8000 | ((b & 0xf) << 10) | (random.uint32() & 0x3ff);
  return `${hex8(a)}-${hex4(b >>> 16)}-4${hex4((b >>> 4) & 0xfff).slice(1)}-${hex4(variantWord)}-${hex4(random.uint32())}${hex8(random.uint32())}`;
}
