/**
 * The daemon's log: one line per event on stdout (journald and `kubectl logs` collect it), a timestamp, a
 * level, the message, and `key=value` context. Levels below the configured one are dropped.
 *
 *   2026-11-22T11:40:01.123Z info  network=_default lease acquired subnet=10.244.3.0/24
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type Fields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

const quote = (v: string) => (/[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v);
const render = (f: Fields) =>
  Object.entries(f)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${quote(String(v))}`)
    .join(' ');

/** `text`: the line above; `json`: one object per line, `{"time","level","msg",...fields}`, for log shippers. */
export type LogFormat = 'text' | 'json';

export function createLogger(opts: { level?: Level; format?: LogFormat; write?: (line: string) => void; fields?: Fields } = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => void process.stdout.write(line));
  const base = opts.fields ?? {};
  const at =
    (level: Level) =>
    (msg: string, fields: Fields = {}) => {
      if (RANK[level] < min) return;
      const time = new Date().toISOString();
      if (opts.format === 'json') {
        const ctx = Object.fromEntries(Object.entries({ ...base, ...fields }).filter(([, v]) => v !== undefined));
        write(`${JSON.stringify({ time, level, msg, ...ctx })}\n`);
        return;
      }
      const ctx = render({ ...base, ...fields });
      write(`${time} ${level.padEnd(5)} ${msg}${ctx ? ` ${ctx}` : ''}\n`);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => createLogger({ ...opts, fields: { ...base, ...fields } }),
  };
}
