import { createHmac, timingSafeEqual } from "node:crypto";
import { randomAlphanumeric } from "../core/random";
import { checkDeviceName, checkProductId, deviceClientId, PRODUCT_ID_MAX } from "../../rrpc/topics";

/**
 * Tencent IoT Hub key authentication of devices (docs/protocol.md, "Device login"):
 *   clientId = {productId}{deviceName}
 *   username = {productId}{deviceName};{sdkappid};{connid};{expiry}
 *   password = hex(HMAC-SHA1|SHA256(base64-decoded device secret, username));hmacsha1|hmacsha256
 */
export type DeviceAuthAlgorithm = "hmacsha1" | "hmacsha256";
export const DEFAULT_SDKAPPID = "12010126";
/** The C SDK's expiry (LONG_MAX): never. */
export const NEVER_EXPIRES = "9223372036854775807";
/** Above this an expiry is taken to be in milliseconds (what the Python SDK sends). */
const MS_THRESHOLD = 1e12;

export type DeviceRecordLookup = (productId: string, deviceName: string) => { secret: string; disabled: boolean } | null;

export type DeviceLoginInput = {
  clientId: string;
  username: string | undefined;
  password: Buffer | string | undefined;
  /** Unix seconds. */
  now: number;
  secretFor: DeviceRecordLookup;
  /**
   * What to do with a millisecond expiry. The Python SDK (hub/protocol/protocol.py) sends the
   * time the client object was created, in ms, and reuses it on every reconnect: enforcing it
   * as an expiry refuses every Python SDK device. Tencent reads the field as seconds, where such
   * a value is ~50,000 years ahead, so "ignore" (the default) matches the platform; "enforce"
   * treats it as an expiry in ms.
   */
  msExpiry?: "ignore" | "enforce";
};

export type DeviceLoginFailure = "bad_credentials" | "not_authorized" | "expired" | "unknown_device" | "disabled";

export type DeviceLoginResult =
  | {
      ok: true;
      productId: string;
      deviceName: string;
      algorithm: DeviceAuthAlgorithm;
      /** Unix seconds; null when the credentials never expire. */
      expiresAt: number | null;
    }
  | { ok: false; reason: DeviceLoginFailure; message: string };

/** MQTT 3.1.1 CONNACK return codes for each refusal: 4 "bad user name or password", 5 "not authorized". */
export const CONNACK_RETURN_CODES: Record<DeviceLoginFailure, 4 | 5> = {
  bad_credentials: 4,
  // Saying "no such device" would let anyone enumerate device names.
  unknown_device: 4,
  expired: 4,
  not_authorized: 5,
  disabled: 5,
};

const ALGORITHMS: Record<DeviceAuthAlgorithm, { hash: "sha1" | "sha256"; hexLength: number }> = {
  hmacsha1: { hash: "sha1", hexLength: 40 },
  hmacsha256: { hash: "sha256", hexLength: 64 },
};

const fail = (reason: DeviceLoginFailure, message: string): DeviceLoginResult => ({ ok: false, reason, message });

/**
 * Every (productId, deviceName) a client id could stand for, longest product id first. Product
 * ids are 1–10 upper-case letters and digits and device names may start with those too, so
 * `ABC123dev` is ambiguous; the registry decides which pair exists.
 */
export function clientIdSplits(clientId: string): { productId: string; deviceName: string }[] {
  const out: { productId: string; deviceName: string }[] = [];
  for (let i = Math.min(PRODUCT_ID_MAX, clientId.length - 1); i >= 1; i--) {
    const productId = clientId.slice(0, i);
    const deviceName = clientId.slice(i);
    if (checkProductId(productId) === null && checkDeviceName(deviceName) === null) out.push({ productId, deviceName });
  }
  return out;
}

type Expiry = { kind: "never" } | { kind: "at"; seconds: number } | { kind: "bad" };

function parseExpiry(raw: string, msExpiry: "ignore" | "enforce"): Expiry {
  if (raw === NEVER_EXPIRES) return { kind: "never" };
  if (!/^\d{1,20}$/.test(raw)) return { kind: "bad" };
  const n = Number(raw);
  if (n > MS_THRESHOLD) return msExpiry === "enforce" ? { kind: "at", seconds: n / 1000 } : { kind: "never" };
  return { kind: "at", seconds: n };
}

function hmacHex(algorithm: DeviceAuthAlgorithm, secretBase64: string, username: string): Buffer {
  return createHmac(ALGORITHMS[algorithm].hash, Buffer.from(secretBase64, "base64")).update(username, "utf8").digest();
}

/**
 * Checks a device's MQTT CONNECT. The username's first field must be the client id; the
 * password's HMAC is tried against each registered reading of the client id (longest product id
 * first) and the first that verifies is the device. Expiry and the disabled flag are only
 * reported to a client that proved it holds the secret.
 */
export function verifyDeviceLogin(input: DeviceLoginInput): DeviceLoginResult {
  const { clientId } = input;
  if (!input.username) return fail("bad_credentials", "a username is required (key authentication)");
  if (input.password === undefined || input.password.length === 0) return fail("bad_credentials", "a password is required (key authentication)");
  const password = typeof input.password === "string" ? input.password : input.password.toString("utf8");

  const fields = input.username.split(";");
  if (fields.length !== 4 || fields.some((f) => f === "")) {
    return fail("bad_credentials", "username must be {productId}{deviceName};{sdkappid};{connid};{expiry}");
  }
  if (fields[0] !== clientId) return fail("not_authorized", "the username does not start with the client id");
  const expiry = parseExpiry(fields[3]!, input.msExpiry ?? "ignore");
  if (expiry.kind === "bad") return fail("bad_credentials", "the username's expiry must be a unix time");

  const sep = password.lastIndexOf(";");
  const algorithm = password.slice(sep + 1) as DeviceAuthAlgorithm;
  const signature = password.slice(0, sep);
  const alg = sep > 0 ? ALGORITHMS[algorithm] : undefined;
  if (!alg || signature.length !== alg.hexLength || !/^[0-9a-fA-F]+$/.test(signature)) {
    return fail("bad_credentials", "password must be {hex HMAC of the username};hmacsha256 or ;hmacsha1");
  }
  const given = Buffer.from(signature, "hex");

  const candidates = clientIdSplits(clientId)
    .map((c) => ({ ...c, record: input.secretFor(c.productId, c.deviceName) }))
    .filter((c) => c.record !== null);
  if (candidates.length === 0) return fail("unknown_device", `no registered device has the client id ${clientId}`);

  const match = candidates.find((c) => {
    const expected = hmacHex(algorithm, c.record!.secret, input.username!);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!match) return fail("bad_credentials", "the password does not match the device secret");
  if (match.record!.disabled) return fail("disabled", `device ${match.productId}/${match.deviceName} is disabled`);
  if (expiry.kind === "at" && expiry.seconds < input.now) {
    return fail("expired", `the credentials expired at ${new Date(expiry.seconds * 1000).toISOString()}`);
  }
  return {
    ok: true,
    productId: match.productId,
    deviceName: match.deviceName,
    algorithm,
    expiresAt: expiry.kind === "at" ? expiry.seconds : null,
  };
}

export type DeviceCredentialOptions = {
  algorithm?: DeviceAuthAlgorithm;
  /** Unix seconds, or "never" (the C SDK's LONG_MAX; the default, so reconnects keep working). */
  expiry?: number | "never";
  sdkappid?: string;
};

/** MQTT CONNECT fields for a key-authenticated device, as Tencent's SDKs build them. */
export function deviceCredentials(
  productId: string,
  deviceName: string,
  secretBase64: string,
  opts: DeviceCredentialOptions = {},
): { clientId: string; username: string; password: string } {
  const clientId = deviceClientId(productId, deviceName);
  const expiry = opts.expiry === undefined || opts.expiry === "never" ? NEVER_EXPIRES : String(Math.floor(opts.expiry));
  const username = `${clientId};${opts.sdkappid ?? DEFAULT_SDKAPPID};${randomAlphanumeric(5)};${expiry}`;
  const algorithm = opts.algorithm ?? "hmacsha256";
  return { clientId, username, password: `${hmacHex(algorithm, secretBase64, username).toString("hex")};${algorithm}` };
}

export type DeviceInfoOptions = {
  /** The C SDK sample ships "china"; newer SDK versions map other region names to other domains. */
  region?: string;
};

/**
 * device_info.json as Tencent's C SDK reads it (platform/os/linux/HAL_Device_linux.c: auth_mode,
 * productId and deviceName required; key_deviceinfo.deviceSecret for KEY mode; productSecret
 * only with dynamic registration; the file must be at most 1024 bytes). The SDK's CMake build
 * enables dynamic registration by default and then refuses a file without a productSecret line,
 * so it carries the placeholder of Tencent's own sample (this hub has no dynamic registration:
 * the device's own secret is what logs in). Unsure: which `region` values each SDK version
 * accepts (only "china" is in the sample); cert_deviceinfo and subDev are left out (no
 * certificates or gateways here).
 * The broker's address is not in the file: the SDK derives `{productId}.iotcloud.tencentdevices.com`.
 */
/** The value of Tencent's sample device_info.json: unused here, but its line must be there. */
export const PRODUCT_SECRET_PLACEHOLDER = "YOUR_PRODUCT_SECRET";

export function deviceInfoJson(productId: string, deviceName: string, secretBase64: string, opts: DeviceInfoOptions = {}): string {
  const info = {
    auth_mode: "KEY",
    region: opts.region ?? "china",
    productId,
    productSecret: PRODUCT_SECRET_PLACEHOLDER,
    deviceName,
    key_deviceinfo: { deviceSecret: secretBase64 },
  };
  return JSON.stringify(info, null, 4) + "\n";
}
