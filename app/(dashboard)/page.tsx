import { SendForm } from "@/components/send-form";
import { Timeline } from "@/components/timeline";
import { draftFromQuery } from "@/lib/hooks/prefill";

export default async function ConsolePage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const q = await searchParams;
  const initial = draftFromQuery(q);
  return (
    <div className="grid grid-cols-1 gap-6 xl:grid-cols-[26rem_1fr]">
      <div className="space-y-2">
        <h1 className="text-lg font-semibold">Send command</h1>
        <SendForm key={initial ? JSON.stringify(initial) : "saved"} initial={initial} />
      </div>
      <Timeline />
    </div>
  );
}
