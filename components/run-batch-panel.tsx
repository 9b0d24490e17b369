"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, useState } from "react";
import { base64ToBytes, isBase64, utf8Bytes } from "@/lib/rrpc/payload";
import { payloadOverLimit } from "@/lib/rrpc/types";
import { MAX_BATCH_CONCURRENCY } from "@/lib/rrpc/batch";
import type { BatchRequest } from "@/lib/rrpc/api";
import { useLimits, useRole } from "@/lib/hooks/use-api";
import { roleAllows } from "@/lib/rrpc/roles";
import { useCommands } from "@/lib/hooks/use-commands";
import { startBatch } from "@/lib/hooks/use-batch";
import { useAction } from "@/lib/hooks/use-action";
import { ErrorAlert } from "./error-alert";
import { Field, inputCls, primaryButtonCls, secondaryButtonCls } from "./field";
import { CommandOptions, ParamFields, RenderedPreview, useParamForm } from "./command-params";
import { timeoutProblem } from "./command-runner";

type Source = "payload" | "command";
type Format = "text" | "json" | "base64";

export const DEFAULT_CONCURRENCY = 100;

function concurrencyProblem(text: string): string | undefined {
  const n = Number(text);
  return text.trim() !== "" && Number.isInteger(n) && n >= 1 && n <= MAX_BATCH_CONCURRENCY
    ? undefined
    : `a whole number from 1 to ${MAX_BATCH_CONCURRENCY}`;
}

/**
 * Runs one payload, or a saved command with its parameters, on the devices picked on the Devices
 * page (POST /api/batches), then opens the batch's page to watch it.
 */
export function RunBatchPanel({ devices, onClose }: { devices: readonly { productId: string; deviceName: string }[]; onClose: () => void }) {
  const router = useRouter();
  const { data: list } = useCommands();
  const { data: limits } = useLimits();
  const [source, setSource] = useState<Source>("command");
  const [format, setFormat] = useState<Format>("text");
  const [payload, setPayload] = useState("");
  const [commandId, setCommandId] = useState("");
  const [timeoutMs, setTimeoutMs] = useState("");
  const [concurrency, setConcurrency] = useState(String(DEFAULT_CONCURRENCY));
  const commands = list?.commands ?? [];
  const command = commands.find((c) => c.id === commandId);
  const form = useParamForm(command);
  const whyId = useId();

  const size = format === "base64" ? (isBase64(payload.trim()) ? base64ToBytes(payload.trim()).byteLength : 0) : utf8Bytes(payload).byteLength;
  let payloadProblem: string | undefined;
  if (source === "payload") {
    if (format === "json") {
      try {
        JSON.parse(payload);
      } catch (e) {
        payloadProblem = `Invalid JSON: ${(e as Error).message}`;
      }
    } else if (format === "base64" && !isBase64(payload.trim())) payloadProblem = "Invalid base64";
    if (!payloadProblem && limits && size > limits.maxPayloadBytes) payloadProblem = payloadOverLimit(limits.maxPayloadBytes, size);
  }
  const otherProduct = command?.productId ? devices.find((d) => d.productId !== command.productId) : undefined;
  const problems: [string, string | undefined][] =
    source === "payload"
      ? [["Payload", payloadProblem]]
      : [
          ["Command", command ? undefined : "choose a command"],
          [
            "Command",
            otherProduct
              ? `${command!.name} is for product ${command!.productId}; ${otherProduct.productId}/${otherProduct.deviceName} is not`
              : undefined,
          ],
          [
            "Parameters",
            form.rendered && !form.rendered.ok
              ? form.rendered.fields.map((f) => `${f.field.replace(/^params\./, "")}: ${f.message}`).join("; ")
              : undefined,
          ],
        ];
  problems.push(["Timeout", timeoutProblem(timeoutMs)], ["Concurrency", concurrencyProblem(concurrency)]);
  // A viewer sees this but cannot do it (the API would answer 403).
  const role = useRole();
  const roleWhy = role !== null && !roleAllows(role, "operator") ? `your role (${role}) cannot start batches` : null;
  const why = [...problems.filter(([, p]) => p).map(([k, p]) => `${k}: ${p}`), ...(roleWhy ? [roleWhy] : [])];

  const { run, busy, error, clearError } = useAction(async () => {
    const body: BatchRequest = {
      targets: { devices: devices.map(({ productId, deviceName }) => ({ productId, deviceName })) },
      concurrency: Number(concurrency),
    };
    if (timeoutMs.trim() !== "") body.timeoutMs = Number(timeoutMs);
    if (source === "payload") {
      body.payload = format === "base64" ? payload.trim() : payload;
      body.encoding = format === "base64" ? "base64" : "utf8";
    } else {
      body.commandId = command!.id;
      body.params = form.rendered?.ok ? form.rendered.params : {};
    }
    const b = await startBatch(body);
    router.push(`/batches/${encodeURIComponent(b.batchId)}`);
  });
  const changed =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      clearError();
    };

  return (
    <form
      aria-label="Run on selected devices"
      className="space-y-3 rounded-lg border border-sky-300 p-4 dark:border-sky-800"
      onSubmit={(e) => {
        e.preventDefault();
        if (why.length === 0) void run();
      }}
      onKeyDown={(e) => {
        if (e.key === "Enter" && (e.target as HTMLElement).tagName === "INPUT") e.preventDefault();
      }}
    >
      <h2 className="text-sm font-semibold">
        Run on {devices.length} selected device{devices.length === 1 ? "" : "s"}
      </h2>
      <fieldset>
        <legend className="mb-1 text-sm font-medium">Send</legend>
        <div className="flex gap-3 text-sm">
          <label className="flex items-center gap-1">
            <input type="radio" name="batch-source" checked={source === "command"} onChange={() => changed(setSource)("command")} />A saved command
          </label>
          <label className="flex items-center gap-1">
            <input type="radio" name="batch-source" checked={source === "payload"} onChange={() => changed(setSource)("payload")} />A payload
          </label>
        </div>
      </fieldset>
      {source === "payload" ? (
        <>
          <fieldset>
            <legend className="mb-1 text-sm font-medium">Payload format</legend>
            <div className="flex gap-3 text-sm">
              {(["text", "json", "base64"] as const).map((m) => (
                <label key={m} className="flex items-center gap-1">
                  <input type="radio" name="batch-format" checked={format === m} onChange={() => changed(setFormat)(m)} />
                  {m === "text" ? "Text" : m === "json" ? "JSON" : "Base64"}
                </label>
              ))}
            </div>
          </fieldset>
          <Field
            label={`Payload (${size}${limits ? ` of at most ${limits.maxPayloadBytes}` : ""} bytes)`}
            error={payload ? payloadProblem : undefined}
            hint="The same payload goes to every device."
          >
            {(a11y) => (
              <textarea
                {...a11y}
                rows={4}
                spellCheck={false}
                className={`${inputCls} font-mono`}
                value={payload}
                onChange={(e) => changed(setPayload)(e.target.value)}
              />
            )}
          </Field>
        </>
      ) : (
        <>
          <Field
            label="Command"
            error={otherProduct ? problems[1]![1] : undefined}
            hint={
              list && commands.length === 0 ? (
                <>
                  No saved commands yet:{" "}
                  <Link className="underline" href="/commands/new">
                    create one
                  </Link>
                  .
                </>
              ) : (
                command?.description
              )
            }
          >
            {(a11y) => (
              <select {...a11y} className={inputCls} value={commandId} onChange={(e) => changed(setCommandId)(e.target.value)}>
                <CommandOptions commands={commands} />
              </select>
            )}
          </Field>
          {command && (
            <>
              <ParamFields
                key={command.id}
                params={command.params}
                draft={form.draft}
                errors={form.errors}
                onChange={(name, v) => {
                  form.set(name, v);
                  clearError();
                }}
              />
              <RenderedPreview rendered={form.rendered} encoding={command.encoding} />
            </>
          )}
        </>
      )}
      <div className="flex flex-wrap items-start gap-3">
        <Field
          label="Timeout (ms)"
          error={timeoutProblem(timeoutMs)}
          hint={`per call; empty: ${source === "command" && command?.timeoutMs ? `the command's (${command.timeoutMs})` : `the hub's (${limits?.defaultTimeoutMs ?? "…"})`}`}
        >
          {(a11y) => (
            <input
              {...a11y}
              type="number"
              inputMode="numeric"
              step={100}
              className={`${inputCls} w-36`}
              value={timeoutMs}
              onChange={(e) => changed(setTimeoutMs)(e.target.value)}
            />
          )}
        </Field>
        <Field label="Concurrency" error={concurrencyProblem(concurrency)} hint="calls in flight at once">
          {(a11y) => (
            <input
              {...a11y}
              type="number"
              inputMode="numeric"
              min={1}
              max={MAX_BATCH_CONCURRENCY}
              className={`${inputCls} w-36`}
              value={concurrency}
              onChange={(e) => changed(setConcurrency)(e.target.value)}
            />
          )}
        </Field>
      </div>
      <ErrorAlert error={error} prefix="Cannot start the batch" />
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className={primaryButtonCls} disabled={why.length > 0 || busy} aria-describedby={why.length > 0 ? whyId : undefined}>
          {busy ? "Starting…" : `Start batch on ${devices.length} device${devices.length === 1 ? "" : "s"}`}
        </button>
        <button type="button" className={secondaryButtonCls} onClick={onClose}>
          Close
        </button>
      </div>
      {why.length > 0 && (
        <p id={whyId} className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="batch-disabled-why">
          Start is off until this is fixed: {why.join("; ")}.
        </p>
      )}
    </form>
  );
}
