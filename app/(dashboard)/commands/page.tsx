import { CommandsList } from "@/components/commands-list";

export default function CommandsPage() {
  return <CommandsList />;
}
