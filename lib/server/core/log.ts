/** One-line JSON logs on stderr. Never pass secrets (payloads are not secrets; keys are). */
type Fields = Record<string, unknown>;
const levels = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof levels;
const threshold = levels[(process.env.RRPC_LOG_LEVEL as Level) ?? "info"] ?? levels.info;

function write(level: Level, msg: string, fields?: Fields) {
  if (levels[level] < threshold) return;
  process.stderr.write(JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields }) + "\n");
}

export const log = {
  debug: (msg: string, f?: Fields) => write("debug", msg, f),
  info: (msg: string, f?: Fields) => write("info", msg, f),
  warn: (msg: string, f?: Fields) => write("warn", msg, f),
  error: (msg: string, f?: Fields) => write("error", msg, f),
};
