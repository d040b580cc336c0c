/**
 * A KMS provider's rules across its variables, on the raw values (reported with every other
 * problem at start-up). `keyService`: the stand-alone key service is starting; `production`: an
 * identity provider is configured (not the demo).
 */
export type ProviderChecks = (raw: Readonly<Record<string, string | undefined>>, start: { keyService: boolean; production: boolean }) => string[];
