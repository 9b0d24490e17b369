/**
 * The production server refuses calls to devices it does not know, and its embedded broker
 * refuses devices that do not log in with their key: register the benchmark's devices in the
 * server's SQLite file before it starts, and hand their secrets to the device processes.
 */
import { DeviceRegistry } from "../lib/server/devices/registry";
import { Store } from "../lib/server/store/store";

/** Registers each device (`names`) of `productId` in the hub database at `dbPath`; returns their secrets, by index. */
export function provisionDevices(dbPath: string, productId: string, names: string[], disabled: string[] = []): string[] {
  const store = new Store(dbPath);
  try {
    const registry = new DeviceRegistry(store.db);
    const secrets = store.db.transaction(() => names.map((name) => registry.createDevice(productId, name).secret))();
    for (const name of disabled) {
      registry.createDevice(productId, name);
      registry.setDisabled(productId, name, true);
    }
    return secrets;
  } finally {
    store.close();
  }
}
