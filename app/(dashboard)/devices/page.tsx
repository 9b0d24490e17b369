import { DevicesTable } from "@/components/devices-table";

export default function DevicesPage() {
  return <DevicesTable />;
}
