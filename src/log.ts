// Logging: JSON by default, text on request. A redaction guard drops any field that could carry
// Secret data, whatever a caller passes in.
import winston from 'winston';

export type Logger = winston.Logger;

const sensitive = new Set(['data', 'stringData', 'binaryData', 'token', 'password', 'last-applied-configuration', 'kubectl.kubernetes.io/last-applied-configuration']);

function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack }; // JSON would give {}
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = sensitive.has(k) ? '[redacted]' : redactValue(v, depth + 1);
  return out;
}

const redact = winston.format((info) => {
  for (const k of Object.keys(info)) {
    if (sensitive.has(k)) info[k] = '[redacted]';
    else if (k !== 'message' && k !== 'level') info[k] = redactValue(info[k]);
  }
  return info;
});

/** mittwald's level names are accepted (trace → debug, fatal/panic → error); anything else is info. */
export function normaliseLevel(level: string | undefined): string {
  const l = (level ?? 'info').trim().toLowerCase();
  if (l === 'trace') return 'debug';
  if (l === 'warning') return 'warn';
  if (l === 'fatal' || l === 'panic') return 'error';
  return ['error', 'warn', 'info', 'debug'].includes(l) ? l : 'info';
}

export function createLogger(opts: { level?: string; format?: string; stream?: NodeJS.WritableStream } = {}): Logger {
  const text = (opts.format ?? 'json').trim().toLowerCase() === 'plain' || opts.format?.trim().toLowerCase() === 'text';
  // Drop what the level excludes before any formatting: winston would otherwise redact, timestamp and serialise
  // every debug line only for the transport to discard it.
  const enabled = winston.format((info) => (winston.config.npm.levels[info.level]! <= winston.config.npm.levels[logger.level]! ? info : false));
  const base = [enabled(), winston.format.errors({ stack: true }), redact(), winston.format.timestamp()];
  const format = text
    ? winston.format.combine(...base, winston.format.printf(({ timestamp, level, message, ...rest }) => {
      const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
      return `time=${String(timestamp)} level=${level} msg=${JSON.stringify(message)}${fields ? ` ${fields}` : ''}`;
    }))
    : winston.format.combine(...base, winston.format.json());
  const transport = opts.stream
    ? new winston.transports.Stream({ stream: opts.stream })
    : new winston.transports.Console({ stderrLevels: [] });
  const logger = winston.createLogger({ level: normaliseLevel(opts.level), format, transports: [transport] });
  // A line below the level costs nothing: winston would still push it through its stream before dropping it (a few
  // percent of the CPU of a fan-out, one info line per write). The level is fixed for the logger's life.
  const levels = winston.config.npm.levels;
  for (const level of Object.keys(levels)) {
    if (levels[level]! > levels[logger.level]!) (logger as unknown as Record<string, unknown>)[level] = () => logger;
  }
  return logger;
}
