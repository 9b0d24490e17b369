"use client";
import useSWR, { type SWRConfiguration } from "swr";
import useSWRInfinite from "swr/infinite";
import { fetcher } from "./fetcher";
import type { CallJson, CallStatus, DeviceSummary } from "../rrpc/types";

export type { DeviceSummary };

export type CallsFilter = { productId?: string; deviceName?: string; status?: CallStatus | ""; from?: string; to?: string };
export type CallsPage = { calls: CallJson[]; nextBefore: string | null };


export function callsQuery(f: CallsFilter, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v) q.set(k, v);
  return q.toString();
}

export function useCall(processId: string, opts?: SWRConfiguration<CallJson>) {
  return useSWR<CallJson>(`/api/calls/${processId}`, fetcher, opts);
}

/** History pages, newest first: each page asks for calls before the last one of the previous page. */
export function useCallPages(filter: CallsFilter, pageSize = 50) {
  return useSWRInfinite<CallsPage>(
    (i, prev: CallsPage | null) => {
      if (prev && !prev.nextBefore) return null;
      const extra: Record<string, string> = { limit: String(pageSize) };
      if (prev?.nextBefore) extra.before = prev.nextBefore;
      return `/api/calls?${callsQuery(filter, extra)}`;
    },
    fetcher,
    { revalidateFirstPage: true },
  );
}

export function useDevices(opts?: SWRConfiguration<{ devices: DeviceSummary[] }>) {
  return useSWR<{ devices: DeviceSummary[] }>("/api/devices", fetcher, opts);
}

export type LiveConfig = {
  url: string | null;
  port: number | null;
  path: string;
  clientIdPrefix: string;
  /** A short-lived, read-only MQTT credential for this browser. */
  username: string | null;
  password: string | null;
  expiresAt: number | null;
};

export function useLiveConfig() {
  return useSWR<LiveConfig>("/api/live", fetcher, { revalidateOnFocus: false });
}
