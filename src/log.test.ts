import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { createLogger, normaliseLevel } from './log.ts';

function capture(format?: string, level = 'debug') {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.setEncoding('utf8');
  stream.on('data', (c: string) => lines.push(...c.split('\n').filter(Boolean)));
  return { log: createLogger({ level, format, stream }), lines };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('logger', () => {
  it('writes JSON by default, text on request', async () => {
    const json = capture();
    json.log.info('hello', { kind: 'Secret' });
    const text = capture('plain');
    text.log.info('hello', { kind: 'Secret' });
    await tick();
    expect(JSON.parse(json.lines[0]!)).toMatchObject({ level: 'info', message: 'hello', kind: 'Secret' });
    expect(text.lines[0]).toMatch(/^time=\S+ level=info msg="hello" kind=Secret$/);
  });

  it('redacts fields that could carry Secret data, at any depth', async () => {
    const { log, lines } = capture();
    log.info('object', { data: { password: 'hunter2' }, obj: { metadata: { name: 'x' }, stringData: { a: 'hunter2' }, nested: [{ token: 'hunter2' }] } });
    await tick();
    expect(lines[0]).not.toContain('hunter2');
    expect(JSON.parse(lines[0]!).obj.metadata.name).toBe('x');
  });

  it('logs errors with their stack', async () => {
    const { log, lines } = capture();
    log.error('failed', { error: new Error('boom') });
    log.error(new Error('direct'));
    await tick();
    expect(lines.join('\n')).toContain('boom');
    expect(JSON.parse(lines[1]!).stack).toContain('Error: direct');
  });

  it('honours levels, with mittwald\'s names', async () => {
    const { log, lines } = capture('json', 'warn');
    log.info('quiet');
    log.warn('loud');
    await tick();
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['loud']);
    expect([normaliseLevel('TRACE'), normaliseLevel(' warning '), normaliseLevel('panic'), normaliseLevel('nonsense')]).toEqual(['debug', 'warn', 'error', 'info']);
  });
});
