// Runs the operator in-process against the test control plane, capturing every log line (all levels),
// so tests can assert on logs and scan them for leaked secret values. It runs with exactly the Helm chart's
// permissions (a token of the chart's ServiceAccount, RBAC written through the chart's RBAC writer), never as admin.
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { parseArgs } from '../../src/cli/flags.ts';
import { createLogger } from '../../src/log.ts';
import { startOperator, type Operator } from '../../src/operator.ts';
import { accessOf } from './cluster.ts';
import { chartIdentity, withChartArgs, type ChartIdentity } from './chart-identity.ts';

export interface TestOperator {
  op: Operator;
  logs: string[];
  statusUrl: string;
  stop(): Promise<void>;
}

/** `identity`: the chart release whose permissions the operator gets (default: the one every suite shares). */
export async function startTestOperator(flags: string[] = [], identity?: ChartIdentity): Promise<TestOperator> {
  const as = identity ?? await chartIdentity();
  const kc = await as.kubeConfig();
  const o = parseArgs(['run', '--status-addr=127.0.0.1:0', '--log-level=debug', ...withChartArgs(flags, as)]);
  const stream = new PassThrough();
  const logs: string[] = [];
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => logs.push(...chunk.split('\n').filter(Boolean)));
  const op = await startOperator(await accessOf(kc), o, { log: createLogger({ level: o.logLevel, format: 'json', stream }) });
  const port = (op.server!.address() as AddressInfo).port;
  return { op, logs, statusUrl: `http://127.0.0.1:${port}`, stop: () => op.stop() };
}
