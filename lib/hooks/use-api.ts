"use client";
/**
 * The API resource by resource: an SWR hook for each read, a function for each write that
 * checks its answer (it throws ApiClientError) and refreshes the caches it changes.
 */
import useSWR, { mutate, type SWRConfiguration } from "swr";
import useSWRInfinite from "swr/infinite";
import { api, swrFetcher, type ApiClientError } from "./api-client";
import type {
  ApiKeyList,
  CallRequest,
  CallsFilter,
  CallsPage,
  DeviceConnectInfo,
  DeviceInfo,
  DeviceList,
  DeviceUpdate,
  LiveConfig,
  NewApiKey,
  NewApiKeyRequest,
  NewDevice,
  NewDeviceRequest,
  CallCount,
  Limits,
  SessionInfo,
  SignInRequest,
  CallStats,
  DevicePresence,
  DeviceStatsRanking,
  UserInfo,
  UserList,
} from "../rrpc/api";
import type { CallJson } from "../rrpc/types";
import type { Role } from "../rrpc/roles";

/** SWR keys, for whoever must refresh them. */
export const KEYS = {
  devices: "/api/devices",
  keys: "/api/keys",
  session: "/api/session",
  users: "/api/users",
  limits: "/api/limits",
  live: "/api/live",
  call: (processId: string) => `/api/calls/${encodeURIComponent(processId)}`,
  deviceConnect: (productId: string, deviceName: string) => `${devicePath(productId, deviceName)}/connect`,
} as const;

function devicePath(productId: string, deviceName: string): string {
  return `/api/devices/${encodeURIComponent(productId)}/${encodeURIComponent(deviceName)}`;
}

export function callsQuery(f: CallsFilter, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v) q.set(k, v);
  return q.toString();
}

// ---- reads ----

export function useCall(processId: string, opts?: SWRConfiguration<CallJson, ApiClientError>) {
  return useSWR<CallJson, ApiClientError>(KEYS.call(processId), swrFetcher, opts);
}

/** How many calls match the filter (history's total). */
export function useCallCount(filter: CallsFilter) {
  return useSWR<CallCount, ApiClientError>(`/api/calls/count?${callsQuery(filter)}`, swrFetcher);
}

/** History pages, newest first: each page asks for calls before the last one of the previous page. */
export function useCallPages(filter: CallsFilter, pageSize = 50) {
  return useSWRInfinite<CallsPage, ApiClientError>(
    (_i, prev: CallsPage | null) => {
      if (prev && !prev.nextBefore) return null;
      const extra: Record<string, string> = { limit: String(pageSize) };
      if (prev?.nextBefore) extra.before = prev.nextBefore;
      return `/api/calls?${callsQuery(filter, extra)}`;
    },
    swrFetcher,
    { revalidateFirstPage: true },
  );
}

export function useDevices(opts?: SWRConfiguration<DeviceList, ApiClientError>) {
  return useSWR<DeviceList, ApiClientError>(KEYS.devices, swrFetcher, opts);
}

/** How to connect a registered device; each load makes a fresh username/password. */
export function useDeviceConnect(productId: string, deviceName: string) {
  return useSWR<DeviceConnectInfo, ApiClientError>(KEYS.deviceConnect(productId, deviceName), swrFetcher, { revalidateOnFocus: false });
}

/** A range of GET /api/stats: epoch ms, the bucket in seconds (the server picks one when left out). */
export type StatsRange = { from: number; to: number; bucket?: number; productId?: string; deviceName?: string };

function statsQuery(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== "") p.set(k, String(v));
  return p.toString();
}

/** Calls by status and round-trip percentiles per bucket; null asks nothing (yet). Refreshed every `refreshMs`. */
export function useStats(range: StatsRange | null, refreshMs = 10_000) {
  return useSWR<CallStats, ApiClientError>(range ? `/api/stats?${statsQuery(range)}` : null, swrFetcher, { refreshInterval: refreshMs });
}

/** The slowest and the most failing devices over a range. */
export function useDeviceRanking(range: { from: number; to: number; limit?: number } | null, refreshMs = 10_000) {
  return useSWR<DeviceStatsRanking, ApiClientError>(range ? `/api/stats/devices?${statsQuery(range)}` : null, swrFetcher, {
    refreshInterval: refreshMs,
  });
}

/** A device's online/offline changes since the hub started. */
export function useDevicePresence(productId: string, deviceName: string) {
  return useSWR<DevicePresence, ApiClientError>(`${devicePath(productId, deviceName)}/presence`, swrFetcher, { refreshInterval: 10_000 });
}

export function useApiKeys() {
  return useSWR<ApiKeyList, ApiClientError>(KEYS.keys, swrFetcher);
}

/** What a call may carry on this hub (they change only with a restart). */
export function useLimits() {
  return useSWR<Limits, ApiClientError>(KEYS.limits, swrFetcher, { revalidateOnFocus: false });
}

export function useSession() {
  return useSWR<SessionInfo, ApiClientError>(KEYS.session, swrFetcher);
}

/** The signed-in user's role (admin while sign-in is off); null until known or when not signed in. */
export function useRole(): Role | null {
  return useSession().data?.role ?? null;
}

/** Team accounts (admins only). */
export function useUsers() {
  return useSWR<UserList, ApiClientError>(KEYS.users, swrFetcher);
}

export async function addUser(body: { name: string; role: Role; password: string }): Promise<UserInfo> {
  const u = await api<UserInfo>("POST", "/api/users", body);
  await mutate(KEYS.users);
  return u;
}

export async function updateUser(name: string, change: { role?: Role; disabled?: boolean }): Promise<UserInfo> {
  try {
    return await api<UserInfo>("PATCH", `/api/users/${encodeURIComponent(name)}`, change);
  } finally {
    await mutate(KEYS.users);
  }
}

export async function removeUser(name: string): Promise<void> {
  try {
    await api<void>("DELETE", `/api/users/${encodeURIComponent(name)}`);
  } finally {
    await mutate(KEYS.users);
  }
}

export function useLiveConfig() {
  return useSWR<LiveConfig, ApiClientError>(KEYS.live, swrFetcher, { revalidateOnFocus: false });
}

// ---- writes ----

/**
 * Calls a device and waits for the outcome. A call that was made but failed (timeout, offline…)
 * throws too: its ApiClientError has the call.
 */
export async function sendCall(body: CallRequest, opts: { signal?: AbortSignal } = {}): Promise<CallJson> {
  try {
    return await api<CallJson>("POST", "/api/calls", body, opts);
  } finally {
    // The device's stats (and last call) changed, or it may have been deleted meanwhile.
    void mutate(KEYS.devices);
  }
}

export async function registerDevice(productId: string, deviceName: string): Promise<NewDevice> {
  const created = await api<NewDevice>("POST", "/api/devices", { productId, deviceName } satisfies NewDeviceRequest);
  await mutate(KEYS.devices);
  return created;
}

export async function setDeviceDisabled(productId: string, deviceName: string, disabled: boolean): Promise<DeviceInfo> {
  try {
    return await api<DeviceInfo>("PATCH", devicePath(productId, deviceName), { disabled } satisfies DeviceUpdate);
  } finally {
    await mutate(KEYS.devices);
  }
}

/** A new secret for the device (shown once); its old one stops working and its connection is closed. */
export async function rotateDeviceSecret(productId: string, deviceName: string): Promise<NewDevice> {
  try {
    return await api<NewDevice>("POST", `${devicePath(productId, deviceName)}/secret`);
  } finally {
    await mutate(KEYS.devices);
  }
}

export async function deleteDevice(productId: string, deviceName: string): Promise<void> {
  try {
    await api<void>("DELETE", devicePath(productId, deviceName));
  } finally {
    await mutate(KEYS.devices);
  }
}

export async function createApiKey(name?: string, role?: Role): Promise<NewApiKey> {
  const created = await api<NewApiKey>("POST", "/api/keys", { ...(name ? { name } : {}), ...(role ? { role } : {}) } satisfies NewApiKeyRequest);
  await mutate(KEYS.keys);
  return created;
}

export async function revokeApiKey(secretId: string): Promise<void> {
  try {
    await api<unknown>("DELETE", `/api/keys/${encodeURIComponent(secretId)}`);
  } finally {
    await mutate(KEYS.keys);
  }
}

/** Signs in; a wrong password throws (401), it does not leave the sign-in page. */
export async function signIn(user: string, password: string): Promise<void> {
  await api<unknown>("POST", "/api/session", { user, password } satisfies SignInRequest, { redirectOnUnauthorized: false });
}

/** Signs out and forgets every cached answer: nothing of this session is shown to the next. */
export async function signOut(): Promise<void> {
  await api<void>("DELETE", "/api/session");
  await mutate(() => true, undefined, { revalidate: false });
}
