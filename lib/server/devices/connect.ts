import type { DeviceConnectInfo } from "../../rrpc/api";
import { deviceCredentials, deviceInfoJson } from "../auth/device-auth";
import { deviceNotFound, type DeviceRegistry } from "./registry";

export const DEVICE_SECRET_PLACEHOLDER = "<device secret, shown once when the device was created>";
const CREDENTIAL_TTL_S = 365 * 24 * 3600;

/**
 * How to connect a device: its client id and a fresh username/password pair (valid a year),
 * and the device-info file of Tencent's C SDK with the secret left out (it is shown only when
 * the device is created).
 */
export async function deviceConnectInfo(
  devices: DeviceRegistry,
  productId: string,
  deviceName: string,
  mqtt: { host: string; port: number } | null,
): Promise<DeviceConnectInfo> {
  const secret = await devices.getDeviceSecret(productId, deviceName);
  if (!secret) throw deviceNotFound(productId, deviceName);
  const expiry = Math.floor(Date.now() / 1000) + CREDENTIAL_TTL_S;
  return {
    ...deviceCredentials(productId, deviceName, secret, { expiry }),
    expiresAt: new Date(expiry * 1000).toISOString(),
    mqtt,
    deviceInfo: deviceInfoJson(productId, deviceName, DEVICE_SECRET_PLACEHOLDER),
  };
}
