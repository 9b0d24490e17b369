/**
 * The production server refuses calls to devices it does not know, and its embedded broker
 * refuses devices that do not log in with their key: register the benchmark's devices in the
 * server's SQLite file before it starts, and hand their secrets to the device processes.
 */
import { DeviceRegistry } from "../lib/server/devices/registry";
import { openSqlite } from "../lib/server/store/open";

/** Registers each device (`names`) of `productId` in the hub database at `dbPath`; returns their secrets, by index. */
export async function provisionDevices(dbPath: string, productId: string, names: string[], disabled: string[] = []): Promise<string[]> {
  const sql = openSqlite(dbPath);
  try {
    const registry = new DeviceRegistry(sql);
    const secrets = await sql.tx(async (q) => {
      const inTx = new DeviceRegistry(q);
      const out: string[] = [];
      for (const name of names) out.push((await inTx.createDevice(productId, name)).secret);
      return out;
    });
    for (const name of disabled) {
      await registry.createDevice(productId, name);
      await registry.setDisabled(productId, name, true);
    }
    return secrets;
  } finally {
    await sql.close();
  }
}
