"use client";
import { DataTable, EmptyRow, type Column } from "./data-table";
import { Fragment, useId, useState } from "react";
import type { ApiKeyInfo, NewApiKey } from "@/lib/rrpc/api";
import { createApiKey, revokeApiKey, useApiKeys, useRole } from "@/lib/hooks/use-api";
import { ROLES, type Role } from "@/lib/rrpc/roles";
import { AdminOnly } from "./admin-only";
import { CopyButton } from "./copy-button";
import { ErrorAlert } from "./error-alert";

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "—");

/** API keys: a SecretId/SecretKey pair authorises the native API and Tencent's PublishRRPCMessage. */
const KEY_COLUMNS: Column[] = [
  { label: "SecretId" },
  { label: "Name" },
  { label: "Role" },
  { label: "Created" },
  { label: "Last used" },
  { label: "State" },
  { label: "Actions", hidden: true },
];

export function ApiKeys() {
  const role = useRole();
  if (role !== null && role !== "admin") return <AdminOnly title="API keys" role={role} what="manage API keys" />;
  return <ApiKeysAdmin />;
}

function ApiKeysAdmin() {
  const { data, error } = useApiKeys();
  const [name, setName] = useState("");
  const [keyRole, setKeyRole] = useState<Role>("operator");
  const [created, setCreated] = useState<NewApiKey | null>(null);
  const [creating, setCreating] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  /** The key being revoked, and the last revocation that failed (shown under its row). */
  const [revoking, setRevoking] = useState<string | null>(null);
  const [revokeProblem, setRevokeProblem] = useState<{ secretId: string; error: unknown } | null>(null);

  async function revoke(k: ApiKeyInfo) {
    if (!window.confirm(`Revoke ${k.secretId}? Programs using it stop working at once.`)) return;
    setRevoking(k.secretId);
    setRevokeProblem(null);
    try {
      await revokeApiKey(k.secretId);
    } catch (error) {
      setRevokeProblem({ secretId: k.secretId, error });
    } finally {
      setRevoking(null);
    }
  }

  const nameId = useId();
  const roleId = useId();
  const keys = data?.keys ?? [];
  return (
    <section aria-labelledby="keys-title" className="space-y-4">
      <h1 id="keys-title" className="text-lg font-semibold">
        API keys
      </h1>
      <p className="max-w-3xl text-sm text-zinc-600 dark:text-zinc-400">
        Programs authenticate with a key: Tencent&apos;s SDKs sign requests with it (SecretId/SecretKey), and the native API takes it as HTTP Basic (
        <code>curl -u SecretId:SecretKey</code>). The SecretKey is shown once, when the key is created.
      </p>
      <form
        aria-label="Create API key"
        className="flex flex-wrap items-end gap-3"
        onSubmit={async (e) => {
          e.preventDefault();
          if (creating) return;
          setCreating(true);
          setProblem(null);
          try {
            setCreated(await createApiKey(name.trim() || undefined, keyRole));
            setName("");
          } catch (err) {
            setProblem(err);
          } finally {
            setCreating(false);
          }
        }}
      >
        <div>
          <label htmlFor={nameId} className="mb-1 block text-xs font-medium">
            Name (optional)
          </label>
          <input
            id={nameId}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="billing-service"
            className="rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          />
        </div>
        <div>
          <label htmlFor={roleId} className="mb-1 block text-xs font-medium">
            Role
          </label>
          <select
            id={roleId}
            value={keyRole}
            onChange={(e) => setKeyRole(e.target.value as Role)}
            className="rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <button
          type="submit"
          disabled={creating}
          className="rounded bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-50"
        >
          Create key
        </button>
      </form>
      <ErrorAlert error={problem} prefix="Cannot create the key" />
      <ErrorAlert error={error} prefix="Cannot load API keys" />
      {created && (
        <div role="status" className="space-y-2 rounded border border-amber-400 p-3" data-testid="created-key">
          <p className="text-sm">Copy the SecretKey now: it is not shown again.</p>
          {(["secretId", "secretKey"] as const).map((k) => (
            <div key={k} className="flex flex-wrap items-center gap-2">
              <span className="w-20 text-xs text-zinc-500 dark:text-zinc-400">{k === "secretId" ? "SecretId" : "SecretKey"}</span>
              <code className="break-all rounded bg-zinc-100 px-1.5 py-0.5 text-xs dark:bg-zinc-900" data-testid={`created-${k}`}>
                {created[k]}
              </code>
              <CopyButton text={created[k]} label={`Copy ${k === "secretId" ? "SecretId" : "SecretKey"}`} />
            </div>
          ))}
          <button type="button" className="text-sm underline" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <DataTable columns={KEY_COLUMNS} stack label="API keys" data-testid="keys">
        {keys.map((k) => (
          <Fragment key={k.secretId}>
            <tr data-secret-id={k.secretId} className="border-t border-zinc-100 dark:border-zinc-800">
              <td className="px-2 py-1 font-mono text-xs font-medium wrap-anywhere">{k.secretId}</td>
              <td data-label="Name" className="min-w-32 px-2 py-1 wrap-anywhere">
                {k.name ?? ""}
              </td>
              <td data-label="Role" className="px-2 py-1 text-xs">
                {k.role}
              </td>
              <td data-label="Created" className="px-2 py-1 text-xs">
                {when(k.createdAt)}
              </td>
              <td data-label="Last used" className="px-2 py-1 text-xs">
                {when(k.lastUsedAt)}
              </td>
              <td data-label="State" className="px-2 py-1 text-xs">
                {k.revokedAt ? `revoked ${when(k.revokedAt)}` : "active"}
              </td>
              <td className="px-2 py-1 text-sm">
                {!k.revokedAt && (
                  <button
                    type="button"
                    aria-label={`Revoke ${k.secretId}`}
                    className="text-rose-700 underline disabled:opacity-50 dark:text-rose-300"
                    disabled={revoking === k.secretId}
                    onClick={() => void revoke(k)}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
            {revokeProblem?.secretId === k.secretId && (
              <tr>
                <td colSpan={KEY_COLUMNS.length} className="px-2 pb-2">
                  <ErrorAlert error={revokeProblem.error} prefix={`Revoke ${k.secretId} failed`} />
                </td>
              </tr>
            )}
          </Fragment>
        ))}
        {data && keys.length === 0 && <EmptyRow columns={KEY_COLUMNS.length}>No API keys yet.</EmptyRow>}
      </DataTable>
    </section>
  );
}
