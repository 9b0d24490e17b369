export type Column = { label: string; align?: "right"; hidden?: boolean };

/** The dashboard's tables: a scrolling frame, a header row from `columns`, the body as children. */
export function DataTable({
  columns,
  children,
  ...attrs
}: { columns: Column[]; children: React.ReactNode } & Record<`data-${string}`, string | number>) {
  return (
    <div className="overflow-x-auto rounded-lg border border-zinc-200 dark:border-zinc-800">
      <table className="w-full text-left text-sm" {...attrs}>
        <thead className="bg-zinc-50 text-xs uppercase text-zinc-600 dark:bg-zinc-900 dark:text-zinc-400">
          <tr>
            {columns.map((c) => (
              <th key={c.label} scope="col" className={`px-2 py-1.5 ${c.align === "right" ? "text-right" : ""}`}>
                {c.hidden ? <span className="sr-only">{c.label}</span> : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A table row saying there is nothing to show. */
export function EmptyRow({ columns, children }: { columns: number; children: React.ReactNode }) {
  return (
    <tr>
      <td colSpan={columns} className="px-2 py-6 text-center text-zinc-500 dark:text-zinc-400">
        {children}
      </td>
    </tr>
  );
}

/** Columns of a call list: the live timeline and the history. */
export function callColumns(first: string): Column[] {
  return [
    { label: first },
    { label: "processId" },
    { label: "Device" },
    { label: "Request" },
    { label: "Reply" },
    { label: "Status" },
    { label: "RTT", align: "right" },
  ];
}
