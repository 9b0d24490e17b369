"use client";
import { useCallback, useRef, useState } from "react";

/**
 * A user action that calls the API: `run` awaits it, `busy` is true meanwhile (a second run is
 * ignored), and `error` holds what went wrong until the next run or `clearError` (call it when the
 * input changes: an error about what is no longer there must not stay). `onError` may take an
 * error itself (return true) instead of showing it.
 */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<unknown>, onError?: (err: unknown) => boolean) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const running = useRef(false);
  const run = useCallback(
    async (...args: A): Promise<void> => {
      if (running.current) return;
      running.current = true;
      setBusy(true);
      setError(null);
      try {
        await fn(...args);
      } catch (err) {
        if (!onError?.(err)) setError(err);
      } finally {
        running.current = false;
        setBusy(false);
      }
    },
    [fn, onError],
  );
  const clearError = useCallback(() => setError(null), []);
  return { run, busy, error, clearError };
}
