import { History } from "@/components/history";
import { CALLER_KINDS, type CallStatus, type CallerKind } from "@/lib/rrpc/types";

/** The filters live in the URL: a filtered view can be shared, and Back returns to the previous one. */
export default async function HistoryPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const q = await searchParams;
  const initial = {
    productId: q.productId,
    deviceName: q.deviceName,
    productIdPrefix: q.productIdPrefix,
    deviceNamePrefix: q.deviceNamePrefix,
    status: q.status as CallStatus | undefined,
    callerKind: CALLER_KINDS.includes(q.callerKind as CallerKind) ? (q.callerKind as CallerKind) : undefined,
    callerId: q.callerId,
    from: q.from,
    to: q.to,
  };
  // A new query is a new view: its form starts from the URL, not from the last one's state.
  return <History key={JSON.stringify(initial)} initial={initial} />;
}
