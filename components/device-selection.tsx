"use client";
import { useId, useMemo, useState } from "react";
import type { DeviceSummary } from "@/lib/rrpc/types";
import { deviceKey } from "@/lib/hooks/live-store";
import { primaryButtonCls, secondaryButtonCls } from "./field";
import { RunBatchPanel } from "./run-batch-panel";

/**
 * Devices picked on the Devices page for a batch. Only registered devices can be picked (a batch
 * to another ends `device_not_found`); a device deleted meanwhile drops out of the selection.
 */
export function useDeviceSelection(devices: readonly DeviceSummary[], online: (d: DeviceSummary) => boolean | null) {
  const [keys, setKeys] = useState<ReadonlySet<string>>(new Set());
  const [onlyOnline, setOnlyOnline] = useState(false);
  const selectable = useMemo(() => devices.filter((d) => d.registered), [devices]);
  const selected = useMemo(() => selectable.filter((d) => keys.has(deviceKey(d.productId, d.deviceName))), [selectable, keys]);
  return {
    selected,
    selectable,
    onlyOnline,
    has: (d: DeviceSummary) => keys.has(deviceKey(d.productId, d.deviceName)),
    toggle(d: DeviceSummary, on: boolean) {
      const next = new Set(keys);
      if (on) next.add(deviceKey(d.productId, d.deviceName));
      else next.delete(deviceKey(d.productId, d.deviceName));
      setKeys(next);
    },
    /** Adds every registered device of `productId` (only those online with "Only online"). */
    selectProduct(productId: string) {
      const next = new Set(keys);
      for (const d of selectable)
        if (d.productId === productId && (!onlyOnline || online(d) === true)) next.add(deviceKey(d.productId, d.deviceName));
      setKeys(next);
    },
    /** "Only online" also drops the offline devices already picked. */
    setOnlyOnline(on: boolean) {
      setOnlyOnline(on);
      if (on) setKeys(new Set(selected.filter((d) => online(d) === true).map((d) => deviceKey(d.productId, d.deviceName))));
    },
    clear: () => setKeys(new Set()),
  };
}
export type DeviceSelection = ReturnType<typeof useDeviceSelection>;

/** The selection column's cell: a checkbox named after its device. */
export function SelectDeviceCell({ sel, device }: { sel: DeviceSelection; device: DeviceSummary }) {
  const key = deviceKey(device.productId, device.deviceName);
  return (
    <td className="px-2 py-1">
      {device.registered && (
        <input type="checkbox" aria-label={`Select ${key}`} checked={sel.has(device)} onChange={(e) => sel.toggle(device, e.target.checked)} />
      )}
    </td>
  );
}

/** Above the devices table: pick whole products, only online devices, and run a batch on the selection. */
export function SelectionToolbar({ sel }: { sel: DeviceSelection }) {
  const products = useMemo(() => [...new Set(sel.selectable.map((d) => d.productId))].sort(), [sel.selectable]);
  const [chosen, setChosen] = useState("");
  const product = products.includes(chosen) ? chosen : (products[0] ?? "");
  const [running, setRunning] = useState(false);
  const productId = useId();
  const field = "rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900";
  const n = sel.selected.length;
  return (
    <div className="space-y-3">
      <div
        role="toolbar"
        aria-label="Selection"
        className="flex flex-wrap items-end gap-3 rounded-lg border border-zinc-200 p-3 dark:border-zinc-800"
      >
        <div>
          <label htmlFor={productId} className="mb-1 block text-xs font-medium">
            Product
          </label>
          <select id={productId} className={field} value={product} onChange={(e) => setChosen(e.target.value)} disabled={products.length === 0}>
            {products.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className={secondaryButtonCls} disabled={!product} onClick={() => sel.selectProduct(product)}>
          Select all of this product
        </button>
        <label className="flex items-center gap-1 pb-1.5 text-sm">
          <input type="checkbox" checked={sel.onlyOnline} onChange={(e) => sel.setOnlyOnline(e.target.checked)} />
          Only online
        </label>
        <span className="pb-1.5 text-sm" data-testid="selected-count" aria-live="polite">
          {n} selected
        </span>
        {n > 0 && (
          <button type="button" className="pb-1.5 text-sm underline" onClick={sel.clear}>
            Clear selection
          </button>
        )}
        <button
          type="button"
          className={`${primaryButtonCls} ml-auto`}
          disabled={n === 0}
          aria-expanded={running}
          onClick={() => setRunning(!running)}
        >
          Run on selected ({n})
        </button>
      </div>
      {running && n > 0 && <RunBatchPanel devices={sel.selected} onClose={() => setRunning(false)} />}
    </div>
  );
}
