"use client";
import Link from "next/link";
import { useState } from "react";
import type { Command } from "@/lib/rrpc/api";
import type { CommandParam } from "@/lib/rrpc/template";
import { isRequired } from "@/lib/rrpc/template";
import { deleteCommand, useCommands } from "@/lib/hooks/use-commands";
import { DataTable, EmptyRow, type Column } from "./data-table";
import { ErrorAlert } from "./error-alert";
import { primaryButtonCls } from "./field";

const COLUMNS: Column[] = [
  { label: "Name" },
  { label: "Product" },
  { label: "Parameters" },
  { label: "Payload" },
  { label: "Timeout", align: "right" },
  { label: "Updated" },
  { label: "Actions", hidden: true },
];

export function paramSummary(p: CommandParam): string {
  let s = `${p.name}: ${p.type}`;
  if (p.type === "enum") s += ` ${(p.values ?? []).map(String).join("|")}`;
  if (p.min !== undefined || p.max !== undefined) s += ` ${p.min ?? "…"}–${p.max ?? "…"}`;
  if (p.default !== undefined) s += ` = ${JSON.stringify(p.default)}`;
  else if (!isRequired(p)) s += " (optional)";
  return s;
}

/** Saved commands: run one from the console, edit, delete (after a confirmation). */
export function CommandsList() {
  const { data, error } = useCommands();
  const commands = data?.commands ?? [];
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<{ id: string; error: unknown } | null>(null);

  async function remove(c: Command) {
    if (!window.confirm(`Delete command ${c.name}? Calls and batches made with it keep their record.`)) return;
    setBusy(c.id);
    setProblem(null);
    try {
      await deleteCommand(c.id);
    } catch (e) {
      setProblem({ id: c.id, error: e });
    } finally {
      setBusy(null);
    }
  }

  return (
    <section aria-labelledby="commands-title" className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 id="commands-title" className="text-lg font-semibold">
          Commands
        </h1>
        <Link href="/commands/new" className={`${primaryButtonCls} ml-auto`}>
          New command
        </Link>
      </div>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        Named payload templates with typed parameters. Run one on a device from the console, or on many from the Devices page.
      </p>
      <ErrorAlert error={error} prefix="Cannot load commands" />
      <DataTable columns={COLUMNS} data-testid="commands">
        {commands.map((c) => (
          <tr key={c.id} data-command-id={c.id} className="border-t border-zinc-100 align-top dark:border-zinc-800">
            <td className="px-2 py-1">
              <span className="font-medium">{c.name}</span>
              {c.description && <span className="block text-xs text-zinc-500 dark:text-zinc-400">{c.description}</span>}
            </td>
            <td className="px-2 py-1">{c.productId ?? <span className="text-zinc-500 dark:text-zinc-400">any</span>}</td>
            <td className="px-2 py-1 font-mono text-xs">
              {c.params.length === 0 ? (
                <span className="text-zinc-500 dark:text-zinc-400">none</span>
              ) : (
                c.params.map((p) => (
                  <span key={p.name} className="block">
                    {paramSummary(p)}
                  </span>
                ))
              )}
            </td>
            <td className="max-w-72 truncate px-2 py-1 font-mono text-xs" title={c.payload}>
              {c.encoding === "base64" ? `base64:${c.payload}` : c.payload}
            </td>
            <td className="whitespace-nowrap px-2 py-1 text-right font-mono text-xs">{c.timeoutMs === undefined ? "—" : `${c.timeoutMs} ms`}</td>
            <td className="whitespace-nowrap px-2 py-1 text-xs text-zinc-500 dark:text-zinc-400">{new Date(c.updatedAt).toLocaleString()}</td>
            <td className="whitespace-nowrap px-2 py-1 text-sm">
              <span className="flex flex-wrap items-center gap-x-2">
                <Link className="underline" href={`/?commandId=${encodeURIComponent(c.id)}`} aria-label={`Run ${c.name}`}>
                  Run
                </Link>
                <Link className="underline" href={`/commands/${encodeURIComponent(c.id)}`} aria-label={`Edit ${c.name}`}>
                  Edit
                </Link>
                <button
                  type="button"
                  className="text-rose-700 underline disabled:opacity-50 dark:text-rose-300"
                  disabled={busy === c.id}
                  aria-label={`Delete ${c.name}`}
                  onClick={() => void remove(c)}
                >
                  Delete
                </button>
              </span>
              {problem?.id === c.id && <ErrorAlert error={problem.error} prefix="Delete failed" />}
            </td>
          </tr>
        ))}
        {data && commands.length === 0 && (
          <EmptyRow columns={COLUMNS.length}>No commands yet: create one, or save the console&apos;s payload as one.</EmptyRow>
        )}
      </DataTable>
    </section>
  );
}
