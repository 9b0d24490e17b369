"use client";
import { useEffect, useId, useMemo, useState } from "react";
import { base64ToBytes, isBase64, utf8Bytes } from "@/lib/rrpc/payload";
import { checkDeviceName, checkProductId } from "@/lib/rrpc/topics";
import {
  DEFAULT_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
  TIMEOUT_RANGE_MESSAGE,
  effectiveRequestLimit,
  requestOverLimit,
  timeoutInRange,
} from "@/lib/rrpc/types";
import type { CallRequest } from "@/lib/rrpc/api";
import { useDevices, useLimits, useRole } from "@/lib/hooks/use-api";
import { roleAllows } from "@/lib/rrpc/roles";
import { useLiveSelect } from "@/lib/hooks/use-live";
import { deviceKey } from "@/lib/hooks/live-store";
import { launcher, useLaunches } from "@/lib/hooks/launcher";
import { storedDraft, type Draft, type InitialDraft, type Mode } from "@/lib/hooks/prefill";
import { CallCard } from "./call-card";
import { OnlineDot } from "./status-badge";
import { SaveAsCommand } from "./save-as-command";

const STORAGE_KEY = "rrpc-hub.send-form";

const DEFAULT_DRAFT: Draft = {
  productId: "AIRCOND001",
  deviceName: "airConditioner1",
  payload: "closed",
  mode: "text",
  timeoutMs: String(DEFAULT_TIMEOUT_MS),
};

function payloadProblem(mode: Mode, payload: string): string | null {
  if (mode === "json") {
    try {
      JSON.parse(payload);
    } catch (e) {
      return `Invalid JSON: ${(e as Error).message}`;
    }
  }
  if (mode === "base64" && !isBase64(payload.trim())) return "Invalid base64";
  return null;
}

const inputCls =
  "w-full rounded border border-zinc-300 bg-white px-2 py-1.5 text-sm focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-zinc-700 dark:bg-zinc-900";

const FIELD_NAMES = { productId: "Product ID", deviceName: "Device", payload: "Payload", timeoutMs: "Timeout" } as const;

/**
 * Send a command to a device. Each call gets its own card at once (pending, with its processId as
 * soon as the hub allocates it); Send stays available while calls are in flight. Ctrl/Cmd+Enter
 * sends; Enter in a one-line field does not. `initial` prefills the form (Edit & resend).
 */
export function SendForm({ initial }: { initial?: InitialDraft }) {
  const { draftKey, ...fields } = initial ?? {};
  const [draft, setDraft] = useState<Draft>({ ...DEFAULT_DRAFT, ...fields });
  const launches = useLaunches();
  const { data } = useDevices();
  const { data: limits } = useLimits();
  const presence = useLiveSelect((s) => s.presence);
  const ids = {
    product: useId(),
    device: useId(),
    payload: useId(),
    timeout: useId(),
    devices: useId(),
    products: useId(),
    help: useId(),
    timeoutHelp: useId(),
    why: useId(),
    roleWhy: useId(),
  };

  useEffect(() => {
    if (draftKey) {
      const kept = storedDraft(draftKey);
      // eslint-disable-next-line react-hooks/set-state-in-effect -- a large draft (Edit & resend) waits in sessionStorage, read after hydration
      if (kept) setDraft({ ...DEFAULT_DRAFT, ...kept });
      return;
    }
    if (initial) return;
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null") as Draft | null;
      // Restoring the operator's last draft after hydration.
      if (saved) setDraft({ ...DEFAULT_DRAFT, ...saved });
    } catch {
      // ignore a broken saved draft
    }
  }, [initial, draftKey]);

  const devices = useMemo(() => data?.devices ?? [], [data]);
  const online = (p: string, d: string) =>
    presence.get(deviceKey(p, d)) ?? devices.find((x) => x.productId === p && x.deviceName === d)?.online ?? null;
  const products = useMemo(() => [...new Set(devices.map((d) => d.productId))], [devices]);

  const timeout = Number(draft.timeoutMs);
  const size =
    draft.mode === "base64"
      ? isBase64(draft.payload.trim())
        ? base64ToBytes(draft.payload.trim()).byteLength
        : 0
      : utf8Bytes(draft.payload).byteLength;
  // The product's request-size limit, when lower than RRPC_MAX_PAYLOAD, is the one that applies.
  const productLimit = limits?.productLimits[draft.productId];
  const maxPayload = limits && effectiveRequestLimit(limits.maxPayloadBytes, productLimit);
  const problems = {
    productId: checkProductId(draft.productId)?.message,
    deviceName: checkDeviceName(draft.deviceName)?.message,
    // The API's own message, before anything is sent.
    payload:
      payloadProblem(draft.mode, draft.payload) ??
      (limits ? requestOverLimit(draft.productId, size, limits.maxPayloadBytes, productLimit) : undefined),
    timeoutMs: timeoutInRange(timeout) ? undefined : TIMEOUT_RANGE_MESSAGE,
  };
  const valid = !Object.values(problems).some(Boolean);
  const why = (Object.keys(problems) as (keyof typeof problems)[]).filter((k) => problems[k]).map((k) => `${FIELD_NAMES[k]}: ${problems[k]}`);
  // A viewer sees the console but sends nothing (the API would answer 403).
  const role = useRole();
  const roleWhy = role !== null && !roleAllows(role, "operator") ? `your role (${role}) cannot send calls` : null;

  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));

  function send() {
    if (!valid || roleWhy) return;
    localStorage.setItem(STORAGE_KEY, JSON.stringify(draft));
    const body: CallRequest = {
      productId: draft.productId,
      deviceName: draft.deviceName,
      payload: draft.mode === "base64" ? draft.payload.trim() : draft.payload,
      encoding: draft.mode === "base64" ? "base64" : "utf8",
      timeoutMs: timeout,
    };
    launcher.launch(body, limits?.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  return (
    <div className="space-y-4">
      <form
        aria-label="Send command"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
        onKeyDown={(e) => {
          if (e.key !== "Enter") return;
          if (e.ctrlKey || e.metaKey) {
            e.preventDefault();
            send();
          } else if ((e.target as HTMLElement).tagName === "INPUT") {
            // Enter in Product ID or Device picks a suggestion; it does not send a command.
            e.preventDefault();
          }
        }}
        className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
      >
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
          <div>
            <label htmlFor={ids.product} className="mb-1 block text-sm font-medium">
              Product ID
            </label>
            <input
              id={ids.product}
              list={ids.products}
              value={draft.productId}
              onChange={(e) => set("productId", e.target.value.trim())}
              aria-invalid={!!problems.productId}
              autoComplete="off"
              spellCheck={false}
              className={inputCls}
            />
            <datalist id={ids.products}>
              {products.map((p) => (
                <option key={p} value={p} />
              ))}
            </datalist>
            {problems.productId && draft.productId && <p className="mt-1 text-xs text-rose-700 dark:text-rose-300">{problems.productId}</p>}
          </div>
          <div>
            <label htmlFor={ids.device} className="mb-1 flex items-center gap-2 text-sm font-medium">
              Device
              <OnlineDot online={online(draft.productId, draft.deviceName)} showLabel />
            </label>
            <input
              id={ids.device}
              list={ids.devices}
              value={draft.deviceName}
              onChange={(e) => set("deviceName", e.target.value.trim())}
              aria-invalid={!!problems.deviceName}
              autoComplete="off"
              spellCheck={false}
              className={inputCls}
            />
            <datalist id={ids.devices}>
              {devices
                .filter((d) => !draft.productId || d.productId === draft.productId)
                .map((d) => (
                  <option
                    key={deviceKey(d.productId, d.deviceName)}
                    value={d.deviceName}
                    label={online(d.productId, d.deviceName) ? "● online" : "○ offline"}
                  />
                ))}
            </datalist>
            {problems.deviceName && draft.deviceName && <p className="mt-1 text-xs text-rose-700 dark:text-rose-300">{problems.deviceName}</p>}
          </div>
        </div>

        <fieldset>
          <legend className="mb-1 text-sm font-medium">Payload format</legend>
          <div className="flex gap-3 text-sm">
            {(["text", "json", "base64"] as const).map((m) => (
              <label key={m} className="flex items-center gap-1">
                <input type="radio" name="mode" value={m} checked={draft.mode === m} onChange={() => set("mode", m)} />
                {m === "text" ? "Text" : m === "json" ? "JSON" : "Base64"}
              </label>
            ))}
          </div>
        </fieldset>
        <div>
          <label htmlFor={ids.payload} className="mb-1 block text-sm font-medium">
            Payload{" "}
            <span className="font-normal text-zinc-500 dark:text-zinc-400" data-testid="payload-size">
              ({size}
              {maxPayload !== undefined && ` of at most ${maxPayload}`} bytes
              {maxPayload !== limits?.maxPayloadBytes && `, ${draft.productId}'s request limit`})
            </span>
          </label>
          <textarea
            id={ids.payload}
            value={draft.payload}
            onChange={(e) => set("payload", e.target.value)}
            aria-invalid={!!problems.payload}
            aria-describedby={ids.help}
            rows={4}
            spellCheck={false}
            className={`${inputCls} font-mono`}
          />
          <p id={ids.help} className={`mt-1 text-xs ${problems.payload ? "text-rose-700 dark:text-rose-300" : "text-zinc-500 dark:text-zinc-400"}`}>
            {problems.payload ?? (draft.mode === "json" ? "Valid JSON. " : "") + "Ctrl/⌘+Enter sends."}
          </p>
        </div>
        <div className="flex flex-wrap items-end gap-3">
          <div>
            <label htmlFor={ids.timeout} className="mb-1 block text-sm font-medium">
              Timeout (ms)
            </label>
            <input
              id={ids.timeout}
              type="number"
              inputMode="numeric"
              min={MIN_TIMEOUT_MS}
              max={MAX_TIMEOUT_MS}
              step={100}
              value={draft.timeoutMs}
              onChange={(e) => set("timeoutMs", e.target.value)}
              aria-invalid={!!problems.timeoutMs}
              aria-describedby={problems.timeoutMs ? ids.timeoutHelp : undefined}
              className={`${inputCls} w-32`}
            />
          </div>
          <button
            type="submit"
            disabled={!valid || roleWhy !== null}
            aria-describedby={roleWhy ? ids.roleWhy : why.length > 0 ? ids.why : undefined}
            className="rounded bg-sky-700 px-4 py-2 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-50"
          >
            Send command
          </button>
          <SaveAsCommand
            productId={draft.productId}
            payload={draft.mode === "base64" ? draft.payload.trim() : draft.payload}
            encoding={draft.mode === "base64" ? "base64" : "utf8"}
          />
        </div>
        {problems.timeoutMs && (
          <p id={ids.timeoutHelp} className="text-xs text-rose-700 dark:text-rose-300">
            {problems.timeoutMs}
          </p>
        )}
        {roleWhy && (
          <p id={ids.roleWhy} className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="send-role-why">
            Send is off: {roleWhy}.
          </p>
        )}
        {why.length > 0 && (
          <p id={ids.why} className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="send-disabled-why">
            Send is off until this is fixed: {why.join("; ")}.
          </p>
        )}
      </form>
      {launches.length > 0 && (
        <div className="space-y-3" data-testid="call-cards">
          {launches.map((l) => (
            <CallCard key={l.clientRef} launch={l} />
          ))}
        </div>
      )}
    </div>
  );
}
