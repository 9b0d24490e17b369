import Link from "next/link";
import { EditCommand } from "@/components/command-form";

export default async function EditCommandPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <section aria-labelledby="edit-command-title" className="space-y-4">
      <p className="text-sm">
        <Link href="/commands" className="underline">
          Commands
        </Link>
      </p>
      <h1 id="edit-command-title" className="text-lg font-semibold">
        Edit command
      </h1>
      <EditCommand id={id} />
    </section>
  );
}
