import { ApiClientError, errorMessage } from "@/lib/hooks/api-client";

/**
 * A failure as the operator sees it, next to the control that caused it: the message, then each
 * field's. Spans only, so it fits anywhere (a table cell, a line of buttons).
 */
export function ErrorAlert({ error, prefix, className = "" }: { error: unknown; prefix?: string; className?: string }) {
  if (!error) return null;
  const fields = error instanceof ApiClientError ? error.fields : undefined;
  return (
    <span role="alert" className={`block text-sm text-rose-700 dark:text-rose-300 ${className}`}>
      <span className="block">
        {prefix ? `${prefix}: ` : ""}
        {errorMessage(error)}
      </span>
      {fields?.map((f, i) => (
        <span key={`${f.field}-${i}`} className="block">
          <span className="font-mono">{f.field}</span>: {f.message}
        </span>
      ))}
    </span>
  );
}
