"use client";
import { Fragment, useId, useState } from "react";
import { DataTable, EmptyRow, type Column } from "./data-table";
import type { UserInfo } from "@/lib/rrpc/api";
import { ROLES, type Role } from "@/lib/rrpc/roles";
import { addUser, removeUser, updateUser, useRole, useSession, useUsers } from "@/lib/hooks/use-api";
import { ErrorAlert } from "./error-alert";
import { AdminOnly } from "./admin-only";

const USER_COLUMNS: Column[] = [{ label: "Name" }, { label: "Role" }, { label: "Created" }, { label: "State" }, { label: "Actions", hidden: true }];

const inputCls = "rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900";

/**
 * Team accounts (admins only): add a user with a role and an initial password, change a role,
 * disable or enable, remove. A role change applies to the user's next request; disabling or
 * removing ends their sessions.
 */
export function UsersPage() {
  const role = useRole();
  if (role !== null && role !== "admin") return <AdminOnly title="Users" role={role} what="manage users" />;
  return <UsersAdmin />;
}

function UsersAdmin() {
  const { data, error } = useUsers();
  const { data: session } = useSession();
  const [name, setName] = useState("");
  const [newRole, setNewRole] = useState<Role>("viewer");
  const [password, setPassword] = useState("");
  const [adding, setAdding] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const [added, setAdded] = useState<UserInfo | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [rowProblem, setRowProblem] = useState<{ name: string; error: unknown } | null>(null);
  const ids = { name: useId(), role: useId(), password: useId() };

  async function onRow(u: UserInfo, what: string, action: () => Promise<unknown>) {
    setBusy(u.name);
    setRowProblem(null);
    try {
      await action();
    } catch (err) {
      setRowProblem({ name: u.name, error: Object.assign(err as Error, { message: `${what}: ${(err as Error).message}` }) });
    } finally {
      setBusy(null);
    }
  }

  const users = data?.users ?? [];
  return (
    <section aria-labelledby="users-title" className="space-y-4">
      <h1 id="users-title" className="text-lg font-semibold">
        Users
      </h1>
      <p className="max-w-3xl text-sm text-zinc-600 dark:text-zinc-400">
        A <strong>viewer</strong> sees everything and sends nothing; an <strong>operator</strong> also sends calls, runs commands and batches and
        edits commands; an <strong>admin</strong> also manages devices, API keys and users. A new role applies at once; disabling or removing a user
        signs them out everywhere.
      </p>
      <form
        aria-label="Add user"
        className="flex flex-wrap items-end gap-3"
        onSubmit={async (e) => {
          e.preventDefault();
          if (adding) return;
          setAdding(true);
          setProblem(null);
          setAdded(null);
          try {
            setAdded(await addUser({ name: name.trim(), role: newRole, password }));
            setName("");
            setPassword("");
          } catch (err) {
            setProblem(err);
          } finally {
            setAdding(false);
          }
        }}
      >
        <div>
          <label htmlFor={ids.name} className="mb-1 block text-xs font-medium">
            Name
          </label>
          <input id={ids.name} value={name} required autoComplete="off" onChange={(e) => setName(e.target.value)} className={inputCls} />
        </div>
        <div>
          <label htmlFor={ids.role} className="mb-1 block text-xs font-medium">
            Role
          </label>
          <select id={ids.role} value={newRole} onChange={(e) => setNewRole(e.target.value as Role)} className={inputCls}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.password} className="mb-1 block text-xs font-medium">
            Initial password (12+ characters)
          </label>
          <input
            id={ids.password}
            type="password"
            value={password}
            required
            minLength={12}
            autoComplete="new-password"
            onChange={(e) => setPassword(e.target.value)}
            className={inputCls}
          />
        </div>
        <button
          type="submit"
          disabled={adding}
          className="rounded bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-50"
        >
          Add user
        </button>
      </form>
      <ErrorAlert error={problem} prefix="Cannot add the user" />
      <ErrorAlert error={error} prefix="Cannot load users" />
      {added && (
        <p role="status" className="text-sm">
          Added {added.name} ({added.role}).
        </p>
      )}
      <DataTable columns={USER_COLUMNS} stack label="Users" data-testid="users">
        {users.map((u) => (
          <Fragment key={u.name}>
            <tr data-user={u.name} className="border-t border-zinc-100 dark:border-zinc-800">
              <td className="px-2 py-1 font-medium wrap-anywhere">
                {u.name}
                {u.name === session?.user ? " (you)" : ""}
              </td>
              <td data-label="Role" className="px-2 py-1">
                <select
                  aria-label={`Role of ${u.name}`}
                  value={u.role}
                  disabled={busy === u.name}
                  onChange={(e) => void onRow(u, "Change role", () => updateUser(u.name, { role: e.target.value as Role }))}
                  className={inputCls}
                >
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </td>
              <td data-label="Created" className="px-2 py-1 text-xs">
                {new Date(u.createdAt).toLocaleString()}
              </td>
              <td data-label="State" className="px-2 py-1 text-xs">
                {u.disabled ? "disabled" : "active"}
              </td>
              <td className="space-x-3 px-2 py-1 text-sm whitespace-nowrap">
                <button
                  type="button"
                  className="underline disabled:opacity-50"
                  disabled={busy === u.name}
                  onClick={() => void onRow(u, u.disabled ? "Enable" : "Disable", () => updateUser(u.name, { disabled: !u.disabled }))}
                >
                  {u.disabled ? "Enable" : "Disable"}
                  <span className="sr-only"> {u.name}</span>
                </button>
                <button
                  type="button"
                  className="text-rose-700 underline disabled:opacity-50 dark:text-rose-300"
                  disabled={busy === u.name}
                  onClick={() => {
                    if (window.confirm(`Remove ${u.name}? They are signed out everywhere.`)) void onRow(u, "Remove", () => removeUser(u.name));
                  }}
                >
                  Remove<span className="sr-only"> {u.name}</span>
                </button>
              </td>
            </tr>
            {rowProblem?.name === u.name && (
              <tr>
                <td colSpan={USER_COLUMNS.length} className="px-2 pb-2">
                  <ErrorAlert error={rowProblem.error} />
                </td>
              </tr>
            )}
          </Fragment>
        ))}
        {data && users.length === 0 && (
          <EmptyRow columns={USER_COLUMNS.length}>No users: sign-in is off (set RRPC_OPERATOR_PASSWORD to turn it on).</EmptyRow>
        )}
      </DataTable>
    </section>
  );
}
