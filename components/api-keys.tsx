"use client";
import { DataTable, EmptyRow, type Column } from "./data-table";
import useSWR from "swr";
import { useId, useState } from "react";
import { fetcher, postJson } from "@/lib/hooks/fetcher";
import { CopyButton } from "./copy-button";

type ApiKey = { secretId: string; name: string | null; createdAt: string; revokedAt: string | null; lastUsedAt: string | null };

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "—");

/** API keys: a SecretId/SecretKey pair authorises the native API and Tencent's PublishRRPCMessage. */
const KEY_COLUMNS: Column[] = [
  { label: "SecretId" },
  { label: "Name" },
  { label: "Created" },
  { label: "Last used" },
  { label: "State" },
  { label: "Actions", hidden: true },
];

export function ApiKeys() {
  const { data, error, mutate } = useSWR<{ keys: ApiKey[] }>("/api/keys", fetcher);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ secretId: string; secretKey: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const nameId = useId();
  const keys = data?.keys ?? [];
  return (
    <section aria-labelledby="keys-title" className="space-y-4">
      <h1 id="keys-title" className="text-lg font-semibold">
        API keys
      </h1>
      <p className="max-w-3xl text-sm text-zinc-600 dark:text-zinc-400">
        Programs authenticate with a key: Tencent&apos;s SDKs sign requests with it (SecretId/SecretKey), and the native API takes it as HTTP Basic
        (<code>curl -u SecretId:SecretKey</code>). The SecretKey is shown once, when the key is created.
      </p>
      <form
        aria-label="Create API key"
        className="flex flex-wrap items-end gap-3"
        onSubmit={async (e) => {
          e.preventDefault();
          setProblem(null);
          const r = await postJson<{ secretId: string; secretKey: string; error?: { message: string } }>("/api/keys", name.trim() ? { name: name.trim() } : {});
          if (r.status === 201) {
            setCreated(r.body);
            setName("");
            void mutate();
          } else setProblem(r.body.error?.message ?? `HTTP ${r.status}`);
        }}
      >
        <div>
          <label htmlFor={nameId} className="mb-1 block text-xs font-medium">Name (optional)</label>
          <input id={nameId} value={name} onChange={(e) => setName(e.target.value)} placeholder="billing-service" className="rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900" />
        </div>
        <button type="submit" className="rounded bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600">
          Create key
        </button>
      </form>
      {(problem || error) && <p role="alert" className="text-sm text-rose-700 dark:text-rose-300">{problem ?? error.message}</p>}
      {created && (
        <div role="status" className="space-y-2 rounded border border-amber-400 p-3" data-testid="created-key">
          <p className="text-sm">Copy the SecretKey now: it is not shown again.</p>
          {(["secretId", "secretKey"] as const).map((k) => (
            <div key={k} className="flex flex-wrap items-center gap-2">
              <span className="w-20 text-xs text-zinc-500">{k === "secretId" ? "SecretId" : "SecretKey"}</span>
              <code className="break-all rounded bg-zinc-100 px-1.5 py-0.5 text-xs dark:bg-zinc-900" data-testid={`created-${k}`}>{created[k]}</code>
              <CopyButton text={created[k]} label={`Copy ${k === "secretId" ? "SecretId" : "SecretKey"}`} />
            </div>
          ))}
          <button type="button" className="text-sm underline" onClick={() => setCreated(null)}>Done</button>
        </div>
      )}
      <DataTable columns={KEY_COLUMNS} data-testid="keys">
            {keys.map((k) => (
              <tr key={k.secretId} data-secret-id={k.secretId} className="border-t border-zinc-100 dark:border-zinc-800">
                <td className="px-2 py-1 font-mono text-xs">{k.secretId}</td>
                <td className="px-2 py-1">{k.name ?? ""}</td>
                <td className="px-2 py-1 text-xs">{when(k.createdAt)}</td>
                <td className="px-2 py-1 text-xs">{when(k.lastUsedAt)}</td>
                <td className="px-2 py-1 text-xs">{k.revokedAt ? `revoked ${when(k.revokedAt)}` : "active"}</td>
                <td className="px-2 py-1 text-sm">
                  {!k.revokedAt && (
                    <button
                      type="button"
                      aria-label={`Revoke ${k.secretId}`}
                      className="text-rose-700 underline dark:text-rose-300"
                      onClick={async () => {
                        if (!window.confirm(`Revoke ${k.secretId}? Programs using it stop working at once.`)) return;
                        await fetch(`/api/keys/${encodeURIComponent(k.secretId)}`, { method: "DELETE" });
                        void mutate();
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {data && keys.length === 0 && (
              <EmptyRow columns={KEY_COLUMNS.length}>No API keys yet.</EmptyRow>
            )}
          </DataTable>
    </section>
  );
}
