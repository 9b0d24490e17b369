/**
 * Child process: well-behaved devices (Tencent rrpc_sample style, lib/device/simulator.ts)
 * named {prefix}{from}..{prefix}{from+count-1} that echo each request, or stay silent.
 */
import { startSimDevice, type SimDevice } from "../lib/server/simulator/simulator";
import { deviceName, inBatches } from "./common";
import { serve } from "./proc";

const devices: SimDevice[] = [];

export type DeviceSet = {
  url: string;
  productId: string;
  /** Devices dev{from}..dev{from+count-1}. */
  from: number;
  count: number;
  silent?: boolean;
  /** Key-authentication secrets by device index (from 0), for brokers that check them. */
  secrets?: string[];
};

const api = {
  /** Connects and subscribes the devices; resolves once every one is subscribed. */
  async connect(set: DeviceSet): Promise<{ connected: number; ms: number }> {
    const t0 = performance.now();
    await inBatches(set.count, 200, async (i) => {
      const device = await startSimDevice({
        url: set.url,
        productId: set.productId,
        deviceName: deviceName(set.from + i),
        secret: set.secrets?.[set.from + i],
        reply: (request) => request,
        silent: set.silent,
      });
      devices.push(device);
    });
    return { connected: devices.length, ms: performance.now() - t0 };
  },
  async disconnect(): Promise<{ received: number; replied: number }> {
    const all = devices.splice(0);
    const received = all.reduce((n, d) => n + d.received, 0);
    const replied = all.reduce((n, d) => n + d.replied, 0);
    await inBatches(all.length, 500, (i) => all[i]!.stop());
    return { received, replied };
  },
  rss: () => process.memoryUsage().rss,
};
export type EchoDevicesApi = typeof api;

serve(api, () => api.disconnect().then(() => undefined));
