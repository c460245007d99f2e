// The workflow bundle's entry point: every workflow type the worker serves.
export { check } from './check.ts';
export { connectionLock } from './lock.ts';
export { streamSync } from './stream.ts';
export { sync } from './sync.ts';
export { verify } from './verify.ts';
