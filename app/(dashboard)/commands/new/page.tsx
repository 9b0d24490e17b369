import Link from "next/link";
import { CommandForm } from "@/components/command-form";

/** `?from=console`: the console's product and payload fill the form (components/save-as-command.tsx). */
export default async function NewCommandPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const q = await searchParams;
  return (
    <section aria-labelledby="new-command-title" className="space-y-4">
      <p className="text-sm">
        <Link href="/commands" className="underline">
          Commands
        </Link>
      </p>
      <h1 id="new-command-title" className="text-lg font-semibold">
        New command
      </h1>
      <CommandForm fromConsole={q.from === "console"} />
    </section>
  );
}
