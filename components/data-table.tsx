import { ScrollFrame } from "./scroll-frame";

export type Column = { label: string; align?: "right"; hidden?: boolean };

/**
 * The dashboard's tables: a bordered frame that scrolls sideways on its own (the page never
 * does), a header row from `columns`, the body as children. With `stack`, below the `lg`
 * breakpoint each row becomes a card: cells stack, each under the label its `data-label`
 * gives (globals.css, `.table-stack`).
 */
export function DataTable({
  columns,
  children,
  stack = false,
  label = "Table",
  ...attrs
}: { columns: Column[]; children: React.ReactNode; stack?: boolean; label?: string } & Record<`data-${string}`, string | number>) {
  return (
    // The frame is positioned (ScrollFrame): what is positioned inside (sr-only labels) cannot escape its scrolling.
    <ScrollFrame label={`${label} (scrolls sideways)`} className="rounded-lg border border-zinc-200 dark:border-zinc-800">
      <table className={`w-full text-left text-sm ${stack ? "table-stack" : ""}`} {...attrs}>
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
    </ScrollFrame>
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
export function callColumns(first: string, { by = false }: { by?: boolean } = {}): Column[] {
  return [
    { label: first },
    { label: "processId" },
    { label: "Device" },
    ...(by ? [{ label: "By" }] : []),
    { label: "Request" },
    { label: "Reply" },
    { label: "Status" },
    { label: "RTT", align: "right" },
  ];
}
