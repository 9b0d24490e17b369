import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { checkDeviceName, checkProductId } from "../lib/rrpc/topics";
import { DeviceRegistry } from "../lib/server/devices/registry";
import { openHubDatabase } from "../lib/server/store/open";
import { startSimDevice } from "../lib/server/simulator/simulator";

const usage = `usage: npm run device -- --product P --device D [--secret BASE64 | --register] [--reply TEXT | --echo] [--delay MS] [--silent] [--url mqtt://127.0.0.1:1883]
  Devices log in with Tencent's key authentication. Without --secret the device's secret is read
  from the hub's registry (RRPC_DB, default ./data/rrpc.db); --register adds the device there first
  if it is missing.`;

/** The device's secret: given, or from the hub's registry on this machine (registering it if asked). */
async function secretFor(productId: string, deviceName: string, given: string | undefined, register: boolean): Promise<string> {
  if (given) return given;
  const path = process.env.RRPC_DB || "./data/rrpc.db";
  if (!process.env.DATABASE_URL && !existsSync(path) && !register) throw new Error(`no --secret and no hub database at ${path}\n${usage}`);
  const { sql, where } = await openHubDatabase();
  try {
    const registry = new DeviceRegistry(sql);
    const known = await registry.getDeviceSecret(productId, deviceName);
    if (known) return known;
    if (!register)
      throw new Error(`${productId}/${deviceName} is not registered: add --register, or register it on the Devices page and pass --secret`);
    const { secret } = await registry.createDevice(productId, deviceName);
    console.log(`registered ${productId}/${deviceName} in ${where}`);
    return secret;
  } finally {
    await sql.close();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      product: { type: "string" },
      device: { type: "string" },
      secret: { type: "string" },
      register: { type: "boolean", default: false },
      reply: { type: "string" },
      echo: { type: "boolean", default: false },
      delay: { type: "string" },
      silent: { type: "boolean", default: false },
      url: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return void console.log(usage);
  const problem = checkProductId(values.product) ?? checkDeviceName(values.device);
  if (problem) throw new Error(`${problem.message}\n${usage}`);
  const delayMs = values.delay === undefined ? 0 : Number(values.delay);
  if (!Number.isInteger(delayMs) || delayMs < 0) throw new Error(`--delay must be a whole number of milliseconds\n${usage}`);
  const url = values.url ?? process.env.MQTT_URL ?? `mqtt://127.0.0.1:${process.env.MQTT_PORT ?? 1883}`;
  const productId = values.product!;
  const deviceName = values.device!;

  const device = await startSimDevice({
    url,
    productId,
    deviceName,
    secret: await secretFor(productId, deviceName, values.secret, values.register),
    reply: values.echo ? (req) => req : values.reply,
    delayMs,
    silent: values.silent,
  });
  const mode = values.silent ? "silent" : values.echo ? "echo" : `reply ${JSON.stringify(values.reply ?? "ok")}`;
  console.log(`device ${productId}/${deviceName} connected to ${url} (${mode}${delayMs ? `, delay ${delayMs} ms` : ""}); Ctrl+C to stop`);
  const stop = async () => {
    await device.stop();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: Error) => {
  console.error(`device: ${err.message}`);
  process.exit(2);
});
