import { BatchesList } from "@/components/batches-list";

export default function BatchesPage() {
  return <BatchesList />;
}
