// The manifests agree with src/model/kinds.ts: a kind added to (or changed in) the table and not regenerated
// (`npm run gen:kinds`) fails here.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generated, repoRoot, withRegion } from './gen-kinds.ts';

describe('manifests generated from the kind table', () => {
  it.each([...generated()])('%s is as tools/gen-kinds.ts writes it', (file, text) => {
    expect(readFileSync(join(repoRoot, file), 'utf8')).toBe(text);
  });

  it('a region is replaced at its marker\'s indentation, the rest of the file kept', () => {
    const before = 'a:\n  # BEGIN generated: x\n  old: 1\n  # END generated: x\nb: 2\n';
    expect(withRegion(before, 'f', 'x', ['new: 1', '  deeper: 2'])).toBe('a:\n  # BEGIN generated: x\n  new: 1\n    deeper: 2\n  # END generated: x\nb: 2\n');
  });

  it('a file without the region is an error naming it', () => {
    expect(() => withRegion('a: 1\n', 'f.yaml', 'x', [])).toThrow('f.yaml: no region "x"');
  });
});
