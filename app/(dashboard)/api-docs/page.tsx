import { ApiDocs } from "@/components/api-docs";

export default function ApiDocsPage() {
  return <ApiDocs />;
}
