"use client";
import { useDeviceConnect } from "@/lib/hooks/use-api";
import { CopyButton } from "./copy-button";
import { ErrorAlert } from "./error-alert";

const PLACEHOLDER = "<device secret, shown once when the device was created>";

function Field({ label, value }: { label: string; value: string }) {
  return (
    <div className="flex flex-wrap items-center gap-2">
      <span className="w-24 text-xs text-zinc-500 dark:text-zinc-400">{label}</span>
      <code
        className="break-all rounded bg-zinc-100 px-1.5 py-0.5 text-xs dark:bg-zinc-900"
        data-testid={`connect-${label.toLowerCase().replace(/\s+/g, "-")}`}
      >
        {value}
      </code>
      <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
    </div>
  );
}

/**
 * How to connect a device with Tencent's key authentication: client id, a fresh
 * username/password pair, and the device-info file of Tencent's C SDK. The secret is filled in
 * only right after creation (it is never shown again).
 */
export function ConnectPanel({ productId, deviceName, secret }: { productId: string; deviceName: string; secret?: string }) {
  const { data, error } = useDeviceConnect(productId, deviceName);
  if (error) return <ErrorAlert error={error} prefix="Cannot load connection details" />;
  if (!data) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading connection details…</p>;
  const deviceInfo = secret ? data.deviceInfo.replace(PLACEHOLDER, secret) : data.deviceInfo;
  return (
    <section aria-label={`Connect ${productId}/${deviceName}`} className="space-y-2 rounded border border-zinc-200 p-3 dark:border-zinc-800">
      {secret && <Field label="Device secret" value={secret} />}
      {data.mqtt && <Field label="Broker" value={`mqtt://${data.mqtt.host}:${data.mqtt.port}`} />}
      <Field label="Client id" value={data.clientId} />
      <Field label="Username" value={data.username} />
      <Field label="Password" value={data.password} />
      <p className="text-xs text-zinc-500 dark:text-zinc-400">
        This username/password pair is valid until {new Date(data.expiresAt).toLocaleDateString()}; each visit makes a new one.
      </p>
      <div>
        <div className="mb-1 flex items-center gap-2">
          <span className="text-xs text-zinc-500 dark:text-zinc-400">device_info.json (Tencent C SDK)</span>
          <CopyButton text={deviceInfo} label="Copy device_info.json" />
        </div>
        <pre
          tabIndex={0}
          role="region"
          aria-label="device_info.json"
          className="overflow-x-auto rounded bg-zinc-100 p-2 text-xs focus-visible:outline-2 focus-visible:outline-sky-600 dark:bg-zinc-900"
          data-testid="connect-device-info"
        >
          {deviceInfo}
        </pre>
      </div>
    </section>
  );
}
