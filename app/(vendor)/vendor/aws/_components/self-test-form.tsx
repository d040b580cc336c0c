"use client";

import { useActionState } from "react";
import { SubmitButton } from "@/components/submit-button";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import type { VendorSelfTest } from "@/lib/fleet/vendor-self-test";
import type { ProbeSide } from "@/lib/kms/providers/aws/self-test";
import { runSelfTestAction } from "../actions";

const SIDE: Record<ProbeSide, { label: string; variant: "success" | "destructive" | "warning" | "secondary" }> = {
  ok: { label: "works", variant: "success" },
  vendor: { label: "refused: your side", variant: "destructive" },
  customer: { label: "refused: customer's side", variant: "warning" },
  inconclusive: { label: "could not tell", variant: "secondary" },
};

export function SelfTestForm() {
  const [state, action] = useActionState(runSelfTestAction, null);
  return (
    <form action={action} className="space-y-4">
      <SubmitButton pendingLabel="Testing…">Run self-test</SubmitButton>
      {state && !state.ok && (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      )}
      {state?.ok && state.data && <SelfTestResult result={state.data} />}
    </form>
  );
}

function SelfTestResult({ result }: { result: VendorSelfTest }) {
  const { identity } = result;
  return (
    <div className="space-y-4" data-testid="self-test-result">
      {identity.ok ? (
        <Alert variant={identity.matchesVendorPrincipal ? "success" : "destructive"} data-testid="self-test-identity">
          <AlertDescription>
            Custody&apos;s credentials resolve to <span className="font-mono break-all">{identity.arn}</span> (account {identity.account}).{" "}
            {identity.matchesVendorPrincipal
              ? "That is the role tenants admit."
              : `That is not the principal tenants admit (${result.vendorPrincipalArn}): their key policies and grants name a role Custody does not run as.`}
          </AlertDescription>
        </Alert>
      ) : (
        <Alert variant="destructive" data-testid="self-test-identity">
          <AlertDescription>
            {identity.problem}
            {identity.startsAs && <> Custody starts as <span className="font-mono break-all">{identity.startsAs}</span>.</>}
          </AlertDescription>
        </Alert>
      )}
      {identity.ok && (
        <p className="text-sm text-muted-foreground">
          Tried {result.tenants.length} of {result.candidates} tenants&apos; keys (failing ones first) with DescribeKey, GenerateDataKey and Decrypt; nothing was kept.
        </p>
      )}
      {result.tenants.length > 0 && (
        <Table data-testid="self-test-tenants">
          <TableHeader>
            <TableRow>
              <TableHead>Tenant</TableHead>
              <TableHead>Result</TableHead>
              <TableHead>What to do</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {result.tenants.map((tenant) => (
              <TableRow key={tenant.tenantId} data-side={tenant.side}>
                <TableCell>
                  <a className="underline" href={`/vendor/tenants/${tenant.tenantId}`}>
                    {tenant.name}
                  </a>
                </TableCell>
                <TableCell>
                  <Badge variant={SIDE[tenant.side].variant}>{SIDE[tenant.side].label}</Badge>
                </TableCell>
                <TableCell className="min-w-64 whitespace-normal">{tenant.message}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </div>
  );
}
