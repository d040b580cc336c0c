import type { Config } from "@/lib/config";
import type { ProviderIcon, RegistrationField } from "./provider";
import type { KmsProviderName } from "./provider-names";
import { kmsProviders } from "./registry";

/** What the console's registration form needs of a provider (plain data, safe to hand to the browser). */
export type KmsProviderChoice = {
  name: KmsProviderName;
  label: string;
  icon: ProviderIcon;
  referenceLabel: string;
  fields: RegistrationField[];
  revocationSummary: string;
};

/** The providers this deployment is configured for, in the registry's order. */
export function kmsProviderChoices(config: Config): KmsProviderChoice[] {
  return kmsProviders()
    .filter((definition) => definition.configured(config))
    .map((definition) => ({
      name: definition.name,
      label: definition.display.label,
      icon: definition.display.icon,
      referenceLabel: definition.display.referenceLabel,
      fields: [...definition.registration.fields],
      revocationSummary: definition.revocation.summary,
    }));
}
