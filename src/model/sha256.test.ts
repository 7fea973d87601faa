import { describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { sha256Hex } from './sha256.ts';

const reference = (s: string) => createHash('sha256').update(s).digest('hex');

describe('sha256Hex', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('matches node:crypto at every length around the block boundaries, and for non-ASCII text', () => {
    for (let n = 0; n < 300; n++) {
      const s = randomBytes(n).toString('base64').slice(0, n);
      expect(sha256Hex(s)).toBe(reference(s));
    }
    for (const s of ['é', 'ü'.repeat(55), '日本語のテキスト', '😀'.repeat(40)]) expect(sha256Hex(s)).toBe(reference(s));
  });

  it('matches node:crypto for a large input', () => {
    const s = randomBytes(700_000).toString('base64');
    expect(sha256Hex(s)).toBe(reference(s));
  });
});
