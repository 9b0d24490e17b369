import { CallDetail } from "@/components/call-detail";

export default async function CallPage({ params }: { params: Promise<{ processId: string }> }) {
  const { processId } = await params;
  return <CallDetail processId={processId} />;
}
