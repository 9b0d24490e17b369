/** The device page's address (app/(dashboard)/devices/[productId]/[deviceName]). */
export function devicePage(productId: string, deviceName: string): string {
  return `/devices/${encodeURIComponent(productId)}/${encodeURIComponent(deviceName)}`;
}
