import { startServer } from "../lib/server/testing/servers";

export default async function globalSetup() {
  const server = await startServer({ RRPC_LOG_LEVEL: "warn" });
  process.env.E2E_BASE_URL = server.url;
  process.env.E2E_MQTT_URL = `mqtt://127.0.0.1:${server.mqttPort}`;
  return async () => {
    await server.stop();
  };
}
