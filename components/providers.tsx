"use client";
import { SWRConfig } from "swr";
import { ApiClientError, swrFetcher } from "@/lib/hooks/api-client";
import { LiveProvider } from "@/lib/hooks/use-live";

/** Retry reads that may succeed later (no answer, 5xx, 408, 429), not those the API refused. */
function retryable(err: unknown): boolean {
  if (!(err instanceof ApiClientError)) return true;
  return err.status === 0 || err.status >= 500 || err.status === 408 || err.status === 429;
}

export function Providers({ children }: { children: React.ReactNode }) {
  return (
    <SWRConfig value={{ fetcher: swrFetcher, keepPreviousData: true, shouldRetryOnError: retryable }}>
      <LiveProvider>{children}</LiveProvider>
    </SWRConfig>
  );
}
