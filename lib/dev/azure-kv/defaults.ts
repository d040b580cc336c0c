import type { App } from "./store";

// The development Azure's well-known identities, shared by demo mode and the tests. These
// secrets are public: they open only a local development server on loopback.
//
// - the vendor's Entra tenant, home of Custody's (multi-tenant) app registration;
// - a customer's tenant, where the customer's vaults live and where Custody's app has a service
//   principal once the customer's administrator consented to it.

export const DEV_AZURE_VENDOR_TENANT = "9e0c1f7a-0000-4000-8000-00000000c057";
export const DEV_AZURE_CUSTOMER_TENANT = "3c5d8e2b-0000-4000-8000-0000000ac3e0";
export const DEV_AZURE_DEFAULT_PORT = 4443;

export const DEV_AZURE_CUSTODY_APP: App = {
  clientId: "5f1b2c3d-0000-4000-8000-0000c0570d1e",
  secret: "dev-custody-azure-secret-not-for-production",
  homeTenant: DEV_AZURE_VENDOR_TENANT,
};
