// Structured logging: one JSON object per line per event, so logs can be grepped and shipped without parsing text.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: Readonly<Record<string, unknown>>): void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Makes errors and bigints JSON-safe: an Error becomes its name, message and stack. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** A logger writing JSON lines to `write` (default stdout), dropping events below `minLevel`. */
export function jsonLogger(
  minLevel: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stdout.write(l),
): Logger {
  const min = LEVELS[minLevel];
  return {
    log(level, event, fields) {
      if (LEVELS[level] < min) return;
      let line: string;
      try {
        line = JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }, replacer);
      } catch {
        line = JSON.stringify({ time: new Date().toISOString(), level, event, note: 'fields not serialisable' });
      }
      write(line + '\n');
    },
  };
}

/** Discards everything (tests). */
export const silentLogger: Logger = { log() {} };
