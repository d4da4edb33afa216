import { expect } from 'vitest';

/**
 * Yields to the event loop until `check` holds, for state another thread changes (shared memory,
 * files). Bounded by a count of turns, not time: a broken thread fails the test instead of hanging it.
 */
export async function until(check: () => boolean, turns = 200_000): Promise<void> {
  for (let i = 0; i < turns && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}
