import { redirect } from "next/navigation";
import { getPrincipal, homePathOf } from "@/lib/auth/principal";

export const dynamic = "force-dynamic";

export default async function Home() {
  const principal = await getPrincipal();
  redirect(principal ? homePathOf(principal) : "/signin");
}
