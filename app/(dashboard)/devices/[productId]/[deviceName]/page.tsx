import { DeviceDetail } from "@/components/device-detail";

/** Ids hold no `%` (topic levels, Tencent's characters): decoding never changes a real one. */
function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export default async function DevicePage({ params }: { params: Promise<{ productId: string; deviceName: string }> }) {
  const { productId, deviceName } = await params;
  const [p, d] = [decoded(productId), decoded(deviceName)];
  // A new device is a new page: nothing of the last one's state carries over.
  return <DeviceDetail key={`${p}/${d}`} productId={p} deviceName={d} />;
}
