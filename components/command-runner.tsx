"use client";
import Link from "next/link";
import { useId, useMemo, useState } from "react";
import { checkDeviceName, checkProductId } from "@/lib/rrpc/topics";
import { TIMEOUT_RANGE_MESSAGE, timeoutInRange } from "@/lib/rrpc/types";
import type { CommandCallRequest } from "@/lib/rrpc/api";
import { ApiClientError, errorMessage, NETWORK_ERROR } from "@/lib/hooks/api-client";
import { useDevices, useLimits, useRole } from "@/lib/hooks/use-api";
import { roleAllows } from "@/lib/rrpc/roles";
import { runCommand, useCommands } from "@/lib/hooks/use-commands";
import { deviceKey } from "@/lib/hooks/live-store";
import { CallResult, type CallOutcome } from "./call-result";
import { ErrorAlert } from "./error-alert";
import { Field, inputCls, primaryButtonCls, TimeoutInput } from "./field";
import { CommandOptions, ParamFields, RenderedPreview, useParamForm } from "./command-params";

/** A timeout field's problem: empty is fine (the command's or the hub's default applies). */
export function timeoutProblem(text: string): string | undefined {
  if (text.trim() === "") return undefined;
  return timeoutInRange(Number(text)) ? undefined : TIMEOUT_RANGE_MESSAGE;
}

/**
 * Runs a saved command on one device from the console: pick the command, its parameters get a
 * form generated from their types, validated as they are typed with the hub's own template rules
 * (lib/rrpc/template.ts); the rendered payload is shown before it is sent.
 */
export function CommandRunner({ initial }: { initial?: { productId?: string; deviceName?: string; commandId?: string } }) {
  const { data: list, error: listError } = useCommands();
  const { data: devicesData } = useDevices();
  const { data: limits } = useLimits();
  const commands = useMemo(() => list?.commands ?? [], [list]);
  const [commandId, setCommandId] = useState(initial?.commandId ?? "");
  const command = commands.find((c) => c.id === commandId);
  const [target, setTarget] = useState({ productId: initial?.productId ?? "", deviceName: initial?.deviceName ?? "" });
  // A command for one product fills it in, unless the operator chose one.
  const productId = target.productId || command?.productId || "";
  const [timeoutMs, setTimeoutMs] = useState("");
  const form = useParamForm(command);
  const [sending, setSending] = useState(false);
  const [outcome, setOutcome] = useState<CallOutcome | null>(null);
  const ids = { devices: useId(), products: useId(), why: useId() };

  const devices = devicesData?.devices ?? [];
  const products = [...new Set(devices.map((d) => d.productId))];
  const problems: [string, string | undefined][] = [
    ["Command", command ? undefined : "choose a command"],
    ["Product ID", checkProductId(productId)?.message],
    [
      "Product ID",
      command?.productId && productId && command.productId !== productId ? `command ${command.name} is for product ${command.productId}` : undefined,
    ],
    ["Device", checkDeviceName(target.deviceName)?.message],
    [
      "Parameters",
      form.rendered && !form.rendered.ok
        ? form.rendered.fields.map((f) => `${f.field.replace(/^params\./, "")}: ${f.message}`).join("; ")
        : undefined,
    ],
    ["Timeout", timeoutProblem(timeoutMs)],
  ];
  // A viewer sees this but cannot do it (the API would answer 403).
  const role = useRole();
  const roleWhy = role !== null && !roleAllows(role, "operator") ? `your role (${role}) cannot run commands` : null;
  const why = [...problems.filter(([, p]) => p).map(([k, p]) => `${k}: ${p}`), ...(roleWhy ? [roleWhy] : [])];
  const valid = why.length === 0;
  const productProblem = problems[1]![1] ?? problems[2]![1];

  async function run() {
    if (!valid || sending || !command) return;
    setSending(true);
    const body: CommandCallRequest = {
      productId,
      deviceName: target.deviceName,
      commandId: command.id,
      params: form.rendered?.ok ? form.rendered.params : {},
    };
    if (timeoutMs.trim() !== "") body.timeoutMs = Number(timeoutMs);
    try {
      setOutcome({ call: await runCommand(body) });
    } catch (e) {
      setOutcome(
        e instanceof ApiClientError
          ? { call: e.call, error: { code: e.code, message: e.message, fields: e.fields } }
          : { error: { code: NETWORK_ERROR, message: errorMessage(e) } },
      );
    } finally {
      setSending(false);
    }
  }

  return (
    <div className="space-y-4">
      <form
        aria-label="Run saved command"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
        onKeyDown={(e) => {
          // Enter in a one-line field does not run a command; Ctrl/⌘+Enter does.
          if (e.key !== "Enter") return;
          if (e.ctrlKey || e.metaKey) {
            e.preventDefault();
            void run();
          } else if ((e.target as HTMLElement).tagName === "INPUT") e.preventDefault();
        }}
        className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
      >
        <ErrorAlert error={listError} prefix="Cannot load commands" />
        <Field
          label="Command"
          hint={
            list && commands.length === 0 ? (
              <>
                No saved commands yet:{" "}
                <Link className="underline" href="/commands/new">
                  create one
                </Link>
                .
              </>
            ) : command?.description ? (
              command.description
            ) : undefined
          }
        >
          {(a11y) => (
            <select
              {...a11y}
              className={inputCls}
              value={commandId}
              onChange={(e) => {
                setCommandId(e.target.value);
                setOutcome(null);
              }}
            >
              <CommandOptions commands={commands} />
            </select>
          )}
        </Field>
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
          <Field label="Product ID" error={productId ? productProblem : undefined}>
            {(a11y) => (
              <>
                <input
                  {...a11y}
                  list={ids.products}
                  className={inputCls}
                  value={productId}
                  onChange={(e) => setTarget({ ...target, productId: e.target.value.trim() })}
                  autoComplete="off"
                  spellCheck={false}
                />
                <datalist id={ids.products}>
                  {products.map((p) => (
                    <option key={p} value={p} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <Field label="Device" error={target.deviceName ? checkDeviceName(target.deviceName)?.message : undefined}>
            {(a11y) => (
              <>
                <input
                  {...a11y}
                  list={ids.devices}
                  className={inputCls}
                  value={target.deviceName}
                  onChange={(e) => setTarget({ ...target, deviceName: e.target.value.trim() })}
                  autoComplete="off"
                  spellCheck={false}
                />
                <datalist id={ids.devices}>
                  {devices
                    .filter((d) => !productId || d.productId === productId)
                    .map((d) => (
                      <option key={deviceKey(d.productId, d.deviceName)} value={d.deviceName} />
                    ))}
                </datalist>
              </>
            )}
          </Field>
        </div>
        {command && (
          <>
            <ParamFields key={command.id} params={command.params} draft={form.draft} errors={form.errors} onChange={form.set} />
            <RenderedPreview rendered={form.rendered} encoding={command.encoding} />
          </>
        )}
        <div className="flex flex-wrap items-end gap-3">
          <Field
            label="Timeout (ms)"
            error={timeoutProblem(timeoutMs)}
            hint={`empty: ${command?.timeoutMs ?? limits?.defaultTimeoutMs ?? "the default"}${command?.timeoutMs ? " (the command's)" : ""}`}
          >
            {(a11y) => (
              <TimeoutInput
                {...a11y}
                placeholder={String(command?.timeoutMs ?? limits?.defaultTimeoutMs ?? "")}
                value={timeoutMs}
                onChange={(e) => setTimeoutMs(e.target.value)}
                className="w-32"
              />
            )}
          </Field>
          <button type="submit" disabled={!valid || sending} aria-describedby={why.length > 0 ? ids.why : undefined} className={primaryButtonCls}>
            {sending ? "Running…" : "Run command"}
          </button>
        </div>
        {why.length > 0 && (
          <p id={ids.why} className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="run-disabled-why">
            Run is off until this is fixed: {why.join("; ")}.
          </p>
        )}
      </form>
      {outcome && <CallResult outcome={outcome} />}
    </div>
  );
}
