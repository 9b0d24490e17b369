"use client";
/**
 * Batches: reads over HTTP (SWR), kept up to date by the live feed (topic rrpc-hub/batches) on
 * the tab's one live connection (use-live.tsx). While that connection is down, running batches
 * are polled instead.
 */
import { useCallback, useEffect, useRef } from "react";
import useSWR, { mutate, useSWRConfig } from "swr";
import useSWRInfinite from "swr/infinite";
import { api, swrFetcher, type ApiClientError } from "./api-client";
import { useLiveTopic, type LiveConnection } from "./use-live";
import { fresher, mergeBatchList, parseBatchUpdates } from "./batch-merge";
import { LIVE_BATCHES_TOPIC } from "../rrpc/live";
import type { BatchJson, BatchList, BatchRequest, BatchTargetStatus, BatchTargetsPage } from "../rrpc/api";

/** How often a running batch is polled while the live connection is down. */
export const POLL_MS = 1000;

export const BATCH_KEYS = {
  batches: "/api/batches",
  batch: (id: string) => `/api/batches/${encodeURIComponent(id)}`,
  targets: (id: string) => `/api/batches/${encodeURIComponent(id)}/targets`,
  export: (id: string, format: "csv" | "json") => `/api/batches/${encodeURIComponent(id)}/export?format=${format}`,
} as const;

/**
 * Revalidates once each time the live connection comes (back) up: what changed while it was
 * down reached nobody.
 */
function useRevalidateOnConnect(connection: LiveConnection, revalidate: () => void) {
  const was = useRef(connection.state);
  useEffect(() => {
    if (connection.state === "connected" && was.current !== "connected") revalidate();
    was.current = connection.state;
  }, [connection.state, revalidate]);
}

/** One batch, live; `connection` says whether the live feed (else polling) keeps it current. */
export function useBatch(batchId: string) {
  const key = BATCH_KEYS.batch(batchId);
  const { cache } = useSWRConfig();
  const connection = useLiveTopic(LIVE_BATCHES_TOPIC, (payload) => {
    const mine = parseBatchUpdates(payload).filter((b) => b.batchId === batchId);
    if (mine.length === 0) return;
    void mutate<BatchJson>(key, (current) => mine.reduce<BatchJson | undefined>((acc, b) => fresher(acc, b), current), { revalidate: false });
  });
  const live = connection.state === "connected";
  // An answer older than what the feed already said must not move the batch back.
  const fetcher = useCallback(async (k: string) => fresher(cache.get(k)?.data as BatchJson | undefined, await swrFetcher<BatchJson>(k)), [cache]);
  const swr = useSWR<BatchJson, ApiClientError>(key, fetcher, {
    refreshInterval: (b) => (b?.status === "running" && !live ? POLL_MS : 0),
  });
  const revalidate = useCallback(() => void mutate(key), [key]);
  useRevalidateOnConnect(connection, revalidate);
  return { ...swr, connection };
}

/** The newest batches, live: new batches appear, running ones move on. */
export function useBatches() {
  const { cache } = useSWRConfig();
  const connection = useLiveTopic(LIVE_BATCHES_TOPIC, (payload) => {
    const updates = parseBatchUpdates(payload);
    if (updates.length === 0) return;
    void mutate<BatchList>(BATCH_KEYS.batches, (l) => (l ? { batches: mergeBatchList(l.batches, updates) } : l), { revalidate: false });
  });
  const live = connection.state === "connected";
  const fetcher = useCallback(
    async (k: string) => {
      const fetched = await swrFetcher<BatchList>(k);
      const known = new Set(fetched.batches.map((b) => b.batchId));
      const cached = (cache.get(k)?.data as BatchList | undefined)?.batches.filter((b) => known.has(b.batchId)) ?? [];
      return { batches: mergeBatchList(fetched.batches, cached) };
    },
    [cache],
  );
  const swr = useSWR<BatchList, ApiClientError>(BATCH_KEYS.batches, fetcher, {
    refreshInterval: (l) => (l?.batches.some((b) => b.status === "running") && !live ? POLL_MS : 0),
  });
  const revalidate = useCallback(() => void mutate(BATCH_KEYS.batches), []);
  useRevalidateOnConnect(connection, revalidate);
  return { ...swr, connection };
}

/** A batch's targets in order, page by page (`limit` each), only those with `status` if given. */
export function useBatchTargets(batchId: string, status: BatchTargetStatus | "", limit = 100) {
  return useSWRInfinite<BatchTargetsPage, ApiClientError>(
    (_i, prev: BatchTargetsPage | null) => {
      if (prev && prev.nextAfter === null) return null;
      const q = new URLSearchParams({ limit: String(limit) });
      if (status) q.set("status", status);
      if (prev?.nextAfter !== undefined && prev.nextAfter !== null) q.set("after", String(prev.nextAfter));
      return `${BATCH_KEYS.targets(batchId)}?${q}`;
    },
    swrFetcher,
    { revalidateFirstPage: true, revalidateAll: true },
  );
}

/** Starts a batch (202: it runs on); the list shows it at once. */
export async function startBatch(body: BatchRequest): Promise<BatchJson> {
  const b = await api<BatchJson>("POST", BATCH_KEYS.batches, body);
  await mutate(BATCH_KEYS.batch(b.batchId), b, { revalidate: false });
  void mutate(BATCH_KEYS.batches);
  return b;
}

/** Stops sending: targets not yet sent end `cancelled`. */
export async function cancelBatch(batchId: string): Promise<BatchJson> {
  const b = await api<BatchJson>("POST", `${BATCH_KEYS.batch(batchId)}/cancel`);
  await mutate(BATCH_KEYS.batch(batchId), (current: BatchJson | undefined) => fresher(current, b), { revalidate: false });
  return b;
}

/** A new batch over the targets of `batchId` that did not succeed. */
export async function retryBatch(batchId: string): Promise<BatchJson> {
  const b = await api<BatchJson>("POST", `${BATCH_KEYS.batch(batchId)}/retry`);
  await mutate(BATCH_KEYS.batch(b.batchId), b, { revalidate: false });
  void mutate(BATCH_KEYS.batches);
  return b;
}
