import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { cancelledSignInRedirect } from "@/lib/auth/cancelled-sign-in";
import { authOptions } from "@/lib/auth/options";

const handler = NextAuth(authOptions);

function GET(request: NextRequest, context: { params: Promise<{ nextauth: string[] }> }) {
  return cancelledSignInRedirect(request.nextUrl) ?? handler(request, context);
}

export { GET, handler as POST };
