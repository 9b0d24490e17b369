import { SendForm } from "@/components/send-form";
import { Timeline } from "@/components/timeline";
import { ConsoleModes } from "@/components/console-modes";
import { CommandRunner } from "@/components/command-runner";
import { draftFromQuery } from "@/lib/hooks/prefill";

export default async function ConsolePage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const q = await searchParams;
  const initial = draftFromQuery(q);
  return (
    // minmax(0, …) and min-w-0: a column is never widened by what it holds (the timeline's table
    // scrolls in its own frame, a long payload wraps in its box).
    <div className="grid grid-cols-1 gap-6 xl:grid-cols-[26rem_minmax(0,1fr)] [&>*]:min-w-0">
      <div className="space-y-2">
        <h1 className="text-lg font-semibold">Send command</h1>
        <ConsoleModes
          key={q.commandId ?? "payload"}
          initialMode={q.commandId ? "command" : "payload"}
          payloadForm={<SendForm key={initial ? JSON.stringify(initial) : "saved"} initial={initial} />}
          commandRunner={<CommandRunner initial={{ productId: initial?.productId, deviceName: initial?.deviceName, commandId: q.commandId }} />}
        />
      </div>
      <Timeline />
    </div>
  );
}
