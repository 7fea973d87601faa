import { expect, it } from '@jest/globals';
import { backoffMs } from './backoff.ts';

it('doubles from the base with each failure, up to the cap, within ±20 %', () => {
  expect([1, 2, 3, 4, 10].map((n) => backoffMs(n, 0.5, 500, 3_000))).toEqual([500, 1000, 2000, 3000, 3000]);
  expect(backoffMs(1, 0, 500, 3_000)).toBe(400);
  expect(backoffMs(1, 1, 500, 3_000)).toBeCloseTo(600);
  expect(backoffMs(0, 0.5, 500, 3_000)).toBe(500);
});
