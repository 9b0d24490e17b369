/**
 * processId rules (docs/protocol.md, "processId"): Tencent's C SDK copies the id into a
 * 16-byte buffer without NUL-terminating it, so ids must never get shorter than one issued
 * before. We issue fixed-width 10-digit decimals with no leading zero, so the string and the
 * integer `MessageId` are the same number, strictly increasing across restarts.
 */
export const PROCESS_ID_WIDTH = 10;
export const PROCESS_ID_MIN = 10 ** (PROCESS_ID_WIDTH - 1);
export const PROCESS_ID_MAX = 10 ** PROCESS_ID_WIDTH - 1;
/** What a device SDK accepts at all (C SDK buffer size). */
export const PROCESS_ID_MAX_DIGITS = 16;

const PROCESS_ID_RE = /^[0-9]{1,16}$/;

export function formatProcessId(n: number): string {
  if (!Number.isSafeInteger(n) || n < PROCESS_ID_MIN || n > PROCESS_ID_MAX) {
    throw new RangeError(`processId ${n} is outside ${PROCESS_ID_MIN}..${PROCESS_ID_MAX}`);
  }
  return String(n);
}

/** Parses a processId as it appears in a topic level or URL; null when it is not one. */
export function parseProcessId(s: string): number | null {
  if (!PROCESS_ID_RE.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) && String(n) === s ? n : null;
}
