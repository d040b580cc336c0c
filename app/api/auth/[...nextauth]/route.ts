import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { cancelledSignInRedirect } from "@/lib/auth/cancelled-sign-in";
import { authOptions } from "@/lib/auth/options";
import { limitSignIn } from "@/lib/auth/sign-in-limit";

type Context = { params: Promise<{ nextauth: string[] }> };

// Sign-in starts and callbacks are limited per client address (lib/auth/sign-in-limit.ts).
const handler = limitSignIn<Context>(NextAuth(authOptions));

function GET(request: NextRequest, context: Context) {
  return cancelledSignInRedirect(request.nextUrl) ?? handler(request, context);
}

export { GET, handler as POST };
