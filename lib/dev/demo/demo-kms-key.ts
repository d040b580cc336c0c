import "server-only";
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, NotFoundException, PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import { DEV_KMS_ACCOUNT_ID, DEV_KMS_CUSTOMER_ADMIN, devKmsClientConfig } from "@/lib/dev/kms/defaults";
import { keyPolicyAdmitting } from "@/lib/kms/providers/aws/instructions";

/**
 * The demo customer's own key in the development KMS (customer account 111122223333), made by
 * the customer's administrator with a key policy that already lets Custody's role (in the
 * vendor's account) use it for the Acme tenant, so a demo user can register and verify it at
 * once. Found again by its alias on later starts.
 */
export async function ensureDemoKmsKey(input: {
  endpoint: string;
  vendorPrincipalArn: string;
  tenantId: string;
  tenantSlug: string;
}): Promise<string> {
  const client = new KMSClient(devKmsClientConfig(input.endpoint, DEV_KMS_CUSTOMER_ADMIN));
  const alias = `alias/${input.tenantSlug}-custody-demo`;
  const policy = keyPolicyAdmitting({
    accountId: DEV_KMS_ACCOUNT_ID,
    vendorPrincipalArn: input.vendorPrincipalArn,
    tenants: [{ tenantId: input.tenantId, tenantSlug: input.tenantSlug }],
  });
  try {
    try {
      const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: alias }));
      if (KeyMetadata?.Arn) {
        // A key made by an earlier version may name Custody's role where it used to live (the
        // customer's account) or ask for more: bring its policy up to date.
        await client.send(new PutKeyPolicyCommand({ KeyId: KeyMetadata.Arn, Policy: policy }));
        return KeyMetadata.Arn;
      }
    } catch (error) {
      if (!(error instanceof NotFoundException)) throw error;
    }
    const { KeyMetadata } = await client.send(
      new CreateKeyCommand({ Description: `${input.tenantSlug}'s key for Custody (demo)`, Policy: policy }),
    );
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata!.KeyId! }));
    return KeyMetadata!.Arn!;
  } finally {
    client.destroy();
  }
}
