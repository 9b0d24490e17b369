import type { CallCaller } from "@/lib/rrpc/types";

/** A long id cut to its start, for a compact cell (the full one is in the title). */
function short(id: string, keep = 8): string {
  return id.length > keep + 2 ? `${id.slice(0, keep)}…` : id;
}

/** A batch's creator as the hub records it ("operator:admin", "api_key:AKID…", "local"), in words. */
function creatorText(createdBy: string): string {
  const i = createdBy.indexOf(":");
  if (i < 0) return createdBy;
  const kind = createdBy.slice(0, i);
  const who = createdBy.slice(i + 1);
  if (kind === "api_key") return `API key ${short(who)}`;
  if (kind === "tencent_key") return `Tencent key ${short(who)}`;
  return `${kind} ${who}`;
}

/** Who made a call, compact: "operator admin", "API key ci-bot", "Tencent key AKID…", "batch b_1a2b… (operator admin)", "local". */
export function callerText(c: CallCaller): string {
  switch (c.kind) {
    case "operator":
      return `operator ${c.name || c.id}`;
    case "api_key":
      return `API key ${c.name && c.name !== c.id ? c.name : short(c.id)}`;
    case "tencent_key":
      return `Tencent key ${c.name && c.name !== c.id ? c.name : short(c.id)}`;
    case "batch":
      return `batch ${short(c.id)}${c.name ? ` (${creatorText(c.name)})` : ""}`;
    case "local":
      return "local";
  }
}

/** The whole of it, for a title: the kind, the id and the name. */
export function callerTitle(c: CallCaller): string {
  return `${c.kind} ${c.id}${c.name && c.name !== c.id ? ` (${c.name})` : ""}`;
}

/** Words for the kinds, for a filter's options. */
export const CALLER_KIND_LABELS: Record<CallCaller["kind"], string> = {
  operator: "Operator",
  api_key: "API key",
  tencent_key: "Tencent key",
  batch: "Batch",
  local: "Local (sign-in off)",
};

/** Who made a call, in a table cell or under a device: the compact text, the full details on hover. */
export function CallerText({ caller, className = "" }: { caller: CallCaller | undefined; className?: string }) {
  if (!caller) return null;
  return (
    <span className={className} title={callerTitle(caller)} data-testid="caller" data-caller-kind={caller.kind}>
      {callerText(caller)}
    </span>
  );
}
