import { History } from "@/components/history";
import type { CallStatus } from "@/lib/rrpc/types";

export default async function HistoryPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const q = await searchParams;
  return <History initial={{ productId: q.productId, deviceName: q.deviceName, status: q.status as CallStatus | undefined }} />;
}
