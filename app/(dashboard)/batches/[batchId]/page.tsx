import { BatchDetail } from "@/components/batch-detail";

export default async function BatchPage({ params }: { params: Promise<{ batchId: string }> }) {
  const { batchId } = await params;
  // Another batch (Retry failed) is another view: nothing of this one's state carries over.
  return <BatchDetail key={batchId} batchId={batchId} />;
}
