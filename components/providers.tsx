"use client";
import { SWRConfig } from "swr";
import { fetcher } from "@/lib/hooks/fetcher";
import { LiveProvider } from "@/lib/hooks/use-live";

export function Providers({ children }: { children: React.ReactNode }) {
  return (
    <SWRConfig value={{ fetcher, keepPreviousData: true }}>
      <LiveProvider>{children}</LiveProvider>
    </SWRConfig>
  );
}
