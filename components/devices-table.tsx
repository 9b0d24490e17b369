"use client";
import { DataTable, EmptyRow, type Column } from "./data-table";
import Link from "next/link";
import { Fragment, useEffect, useState } from "react";
import { checkDevice } from "@/lib/rrpc/topics";
import type { NewDevice } from "@/lib/rrpc/api";
import type { DeviceSummary } from "@/lib/rrpc/types";
import { deleteDevice, registerDevice, rotateDeviceSecret, setDeviceDisabled, useDevices, useRole } from "@/lib/hooks/use-api";
import { ErrorAlert } from "./error-alert";
import { ApiClientError } from "@/lib/hooks/api-client";
import { LabeledInput } from "./labeled-input";
import { useAction } from "@/lib/hooks/use-action";
import { ConnectPanel } from "./connect-panel";
import { useLive } from "@/lib/hooks/use-live";
import { deviceKey } from "@/lib/hooks/live-store";
import { OnlineDot, StatusBadge } from "./status-badge";
import { formatMs } from "./call-result";
import { devicePage } from "./device-href";
import { SelectDeviceCell, SelectionToolbar, useDeviceSelection } from "./device-selection";

const DEVICE_COLUMNS: Column[] = [
  { label: "Select", hidden: true },
  { label: "Device" },
  { label: "Registry" },
  { label: "Online" },
  { label: "Last call" },
  { label: "Calls", align: "right" },
  { label: "Success", align: "right" },
  { label: "p50 RTT", align: "right" },
  { label: "p95 RTT", align: "right" },
  { label: "Actions", hidden: true },
];

export function DevicesTable() {
  const { data, error, mutate } = useDevices();
  const { snapshot } = useLive();
  // New calls change the stats: refresh when the live view has seen new traffic, at most every 2 s.
  useEffect(() => {
    const t = setTimeout(() => void mutate(), 2000);
    return () => clearTimeout(t);
  }, [snapshot.messages, mutate]);

  const devices = data?.devices ?? [];
  // Registering, connecting (it shows a device's password), disabling, new secrets and deleting are an admin's.
  const admin = useRole() === "admin";
  const sel = useDeviceSelection(devices, (d) => snapshot.presence.get(deviceKey(d.productId, d.deviceName)) ?? d.online);
  const [open, setOpen] = useState<string | null>(null);
  /** The device whose action is under way, and the last action that failed (shown under its row). */
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<{ key: string; action: string; error: unknown } | null>(null);
  /** A secret just made for a device: shown once, under its row. */
  const [rotated, setRotated] = useState<NewDevice | null>(null);

  async function act(d: DeviceSummary, action: "Enable" | "Disable" | "Delete" | "New secret") {
    const key = deviceKey(d.productId, d.deviceName);
    setBusy(key);
    setProblem(null);
    setRotated(null);
    try {
      if (action === "Delete") await deleteDevice(d.productId, d.deviceName);
      else if (action === "New secret") setRotated(await rotateDeviceSecret(d.productId, d.deviceName));
      else await setDeviceDisabled(d.productId, d.deviceName, action === "Disable");
    } catch (error) {
      setProblem({ key, action, error });
    } finally {
      setBusy(null);
    }
  }

  return (
    <section aria-labelledby="devices-title" className="space-y-4">
      <h1 id="devices-title" className="text-lg font-semibold">
        Devices
      </h1>
      {admin && <RegisterDevice />}
      <ErrorAlert error={error} prefix="Cannot load devices" />
      <SelectionToolbar sel={sel} />
      <DataTable columns={DEVICE_COLUMNS} stack label="Devices" data-testid="devices">
        {devices.map((d) => {
          const key = deviceKey(d.productId, d.deviceName);
          const online = snapshot.presence.get(key) ?? d.online;
          const q = new URLSearchParams({ productId: d.productId, deviceName: d.deviceName }).toString();
          return (
            <Fragment key={key}>
              <tr data-device={key} className="border-t border-zinc-100 dark:border-zinc-800">
                <SelectDeviceCell sel={sel} device={d} />
                <td className="min-w-40 px-2 py-1 font-medium wrap-anywhere">
                  <Link className="underline" href={devicePage(d.productId, d.deviceName)}>
                    {d.productId}/{d.deviceName}
                  </Link>
                </td>
                <td data-label="Registry" className="px-2 py-1 text-xs">
                  {!d.registered ? (
                    <span className="text-zinc-500 dark:text-zinc-400">not registered</span>
                  ) : d.disabled ? (
                    <span className="text-rose-700 dark:text-rose-300">disabled</span>
                  ) : (
                    "registered"
                  )}
                </td>
                <td data-label="Online" className="px-2 py-1">
                  <OnlineDot online={online} showLabel />
                </td>
                <td data-label="Last call" className="px-2 py-1">
                  {d.lastCall ? (
                    <span className="flex flex-wrap items-center gap-x-2 gap-y-0.5">
                      <StatusBadge status={d.lastCall.status} />
                      <Link className="font-mono text-xs underline" href={`/calls/${d.lastCall.processId}`}>
                        {d.lastCall.processId}
                      </Link>
                      <span className="text-xs text-zinc-500 dark:text-zinc-400">{new Date(d.lastCall.at).toLocaleString()}</span>
                    </span>
                  ) : (
                    <span className="text-zinc-500 dark:text-zinc-400">never called</span>
                  )}
                </td>
                <td data-label="Calls" className="whitespace-nowrap px-2 py-1 text-right font-mono">
                  {d.calls}
                </td>
                <td data-label="Success" className="whitespace-nowrap px-2 py-1 text-right font-mono">
                  {d.successRate === null ? "—" : `${(d.successRate * 100).toFixed(1)}%`}
                </td>
                <td data-label="p50 RTT" className="whitespace-nowrap px-2 py-1 text-right font-mono">
                  {formatMs(d.p50Ms)}
                </td>
                <td data-label="p95 RTT" className="whitespace-nowrap px-2 py-1 text-right font-mono">
                  {formatMs(d.p95Ms)}
                </td>
                <td className="whitespace-nowrap px-2 py-1 text-sm">
                  <span className="flex flex-wrap items-center gap-x-3 gap-y-1 lg:gap-x-2">
                    <Link className="underline" href={`/?${q}`}>
                      Call
                    </Link>
                    <Link className="underline" href={`/history?${q}`}>
                      History
                    </Link>
                    {d.registered && admin && (
                      <>
                        <button
                          type="button"
                          className="underline"
                          aria-expanded={open === key}
                          aria-label={`Connect ${key}`}
                          onClick={() => setOpen(open === key ? null : key)}
                        >
                          Connect
                        </button>
                        <button
                          type="button"
                          className="underline disabled:opacity-50"
                          disabled={busy === key}
                          aria-label={`${d.disabled ? "Enable" : "Disable"} ${key}`}
                          onClick={() => void act(d, d.disabled ? "Enable" : "Disable")}
                        >
                          {d.disabled ? "Enable" : "Disable"}
                        </button>
                        <button
                          type="button"
                          className="underline disabled:opacity-50"
                          disabled={busy === key}
                          aria-label={`New secret for ${key}`}
                          onClick={() => {
                            if (window.confirm(`Give ${key} a new secret? The current one stops working and the device is disconnected.`))
                              void act(d, "New secret");
                          }}
                        >
                          New secret
                        </button>
                        <button
                          type="button"
                          className="text-rose-700 underline disabled:opacity-50 dark:text-rose-300"
                          disabled={busy === key}
                          aria-label={`Delete ${key}`}
                          onClick={() => {
                            if (window.confirm(`Delete ${key}? It is disconnected and can no longer log in; its call history stays.`))
                              void act(d, "Delete");
                          }}
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </span>
                </td>
              </tr>
              {problem?.key === key && (
                <tr>
                  <td colSpan={DEVICE_COLUMNS.length} className="px-2 pb-2">
                    <ErrorAlert error={problem.error} prefix={`${problem.action} ${key} failed`} />
                  </td>
                </tr>
              )}
              {rotated && deviceKey(rotated.productId, rotated.deviceName) === key && (
                <tr>
                  <td colSpan={DEVICE_COLUMNS.length} className="px-2 py-2">
                    <SecretShownOnce device={rotated} testId="rotated-device" onDone={() => setRotated(null)}>
                      New secret for <strong>{key}</strong>: the old one no longer logs in.
                    </SecretShownOnce>
                  </td>
                </tr>
              )}
              {open === key && (
                <tr>
                  <td colSpan={DEVICE_COLUMNS.length} className="px-2 py-2">
                    <ConnectPanel productId={d.productId} deviceName={d.deviceName} />
                  </td>
                </tr>
              )}
            </Fragment>
          );
        })}
        {data && devices.length === 0 && <EmptyRow columns={DEVICE_COLUMNS.length}>No devices yet: register one above.</EmptyRow>}
      </DataTable>
      <p className="text-xs text-zinc-500 dark:text-zinc-400">
        A device is online while it is subscribed to its request topic. RTT percentiles are over its last 100 successful calls.
      </p>
    </section>
  );
}

function RegisterDevice() {
  const [productId, setProductId] = useState("");
  const [deviceName, setDeviceName] = useState("");
  const [created, setCreated] = useState<NewDevice | null>(null);
  /** Whether the fields were edited since the last registration: no "required" nag right after a success. */
  const [edited, setEdited] = useState(false);
  const {
    run,
    busy,
    error: problem,
    clearError,
  } = useAction(async () => {
    setCreated(await registerDevice(productId, deviceName));
    setDeviceName("");
    setEdited(false);
  });
  /** An edit of either field: a new input, so no error about the last one and no nag until it is checked again. */
  const edit = (set: (v: string) => void, value: string) => {
    set(value.trim());
    setEdited(true);
    clearError();
  };
  const fields = checkDevice(productId, deviceName);
  // "Already exists" no longer holds once that device is deleted.
  const { data: list } = useDevices();
  const stale =
    problem instanceof ApiClientError &&
    problem.code === "conflict" &&
    !list?.devices.some((d) => d.registered && d.productId === productId && d.deviceName === deviceName);
  const field = "rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900";
  return (
    <div className="space-y-3">
      <form
        aria-label="Register device"
        className="flex flex-wrap items-end gap-3"
        onSubmit={async (e) => {
          e.preventDefault();
          await run();
        }}
      >
        <LabeledInput
          label="Product ID"
          className={field}
          value={productId}
          onChange={(e) => edit(setProductId, e.target.value)}
          placeholder="AIRCOND001"
        />
        <LabeledInput
          label="Device name"
          className={field}
          value={deviceName}
          onChange={(e) => edit(setDeviceName, e.target.value)}
          placeholder="kitchen"
        />
        <button
          type="submit"
          disabled={fields.length > 0 || busy}
          className="rounded bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-50"
        >
          Register device
        </button>
        {edited && (productId || deviceName) && fields.length > 0 && (
          <span data-testid="register-hint" className="text-xs text-zinc-500 dark:text-zinc-400">
            {fields.map((f) => f.message).join("; ")}
          </span>
        )}
      </form>
      <ErrorAlert error={stale ? null : problem} prefix="Cannot register the device" />
      {created && (
        <SecretShownOnce device={created} testId="created-device" onDone={() => setCreated(null)}>
          Registered{" "}
          <strong>
            {created.productId}/{created.deviceName}
          </strong>
          .
        </SecretShownOnce>
      )}
    </div>
  );
}

/** A device's secret, shown this once (at registration, or when it was replaced), with how to connect. */
function SecretShownOnce({ device, testId, onDone, children }: { device: NewDevice; testId: string; onDone: () => void; children: React.ReactNode }) {
  return (
    <div role="status" className="space-y-2 rounded border border-amber-400 p-3" data-testid={testId}>
      <p className="text-sm">{children} Copy its secret now: it is not shown again.</p>
      <ConnectPanel productId={device.productId} deviceName={device.deviceName} secret={device.secret} />
      <button type="button" className="text-sm underline" onClick={onDone}>
        Done
      </button>
    </div>
  );
}
