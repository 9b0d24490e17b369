import { parseArgs } from "node:util";
import { checkDeviceName, checkProductId } from "../rrpc/topics";
import { startSimDevice } from "./simulator";

const usage = `usage: npm run device -- --product P --device D [--reply TEXT] [--echo] [--delay MS] [--silent] [--url mqtt://127.0.0.1:1883]`;

async function main() {
  const { values } = parseArgs({
    options: {
      product: { type: "string" },
      device: { type: "string" },
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

  const device = await startSimDevice({
    url,
    productId: values.product!,
    deviceName: values.device!,
    reply: values.echo ? (req) => req : values.reply,
    delayMs,
    silent: values.silent,
  });
  const mode = values.silent ? "silent" : values.echo ? "echo" : `reply ${JSON.stringify(values.reply ?? "ok")}`;
  console.log(`device ${values.product}/${values.device} connected to ${url} (${mode}${delayMs ? `, delay ${delayMs} ms` : ""}); Ctrl+C to stop`);
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
