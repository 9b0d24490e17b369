import type { DeviceList } from "../../rrpc/api";
import type { DeviceSummary } from "../../rrpc/types";
import type { CallStore } from "../store/call-store";
import type { DeviceRegistry } from "./registry";

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i]! * 1000) / 1000;
}

/**
 * Registered devices and devices seen in calls, with live presence (`online` null when the
 * broker is external and cannot tell) and call statistics.
 */
export async function listDevices(
  devices: DeviceRegistry,
  store: CallStore,
  online: { productId: string; deviceName: string }[] | null,
): Promise<DeviceList> {
  const key = (p: string, d: string) => `${p}/${d}`;
  const onlineKeys = online ? new Set(online.map((d) => key(d.productId, d.deviceName))) : null;
  const byKey = new Map<string, DeviceSummary>();
  const entry = (productId: string, deviceName: string): DeviceSummary => {
    const k = key(productId, deviceName);
    let e = byKey.get(k);
    if (!e) {
      e = {
        productId,
        deviceName,
        registered: false,
        disabled: false,
        createdAt: null,
        online: onlineKeys ? onlineKeys.has(k) : null,
        calls: 0,
        successRate: null,
        lastCall: null,
        p50Ms: null,
        p95Ms: null,
      };
      byKey.set(k, e);
    }
    return e;
  };
  for (const d of await devices.listDevices()) {
    Object.assign(entry(d.productId, d.deviceName), { registered: true, disabled: d.disabled, createdAt: d.createdAt });
  }
  for (const s of await store.deviceStats()) {
    const sorted = [...s.recentRtts].sort((a, b) => a - b);
    Object.assign(entry(s.productId, s.deviceName), {
      calls: s.calls,
      successRate: s.calls ? s.successes / s.calls : null,
      lastCall: { processId: s.lastProcessId, status: s.lastStatus, at: new Date(s.lastAt).toISOString() },
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
    });
  }
  const list = [...byKey.values()].sort((a, b) => a.productId.localeCompare(b.productId) || a.deviceName.localeCompare(b.deviceName));
  return { devices: list };
}
