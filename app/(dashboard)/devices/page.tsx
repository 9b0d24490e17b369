import { DevicesTable } from "@/components/devices-table";
import { ProductLimits } from "@/components/product-limits";

export default function DevicesPage() {
  return (
    <div className="space-y-8">
      <DevicesTable />
      <ProductLimits />
    </div>
  );
}
