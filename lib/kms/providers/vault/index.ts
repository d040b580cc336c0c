export { vaultKmsProvider } from "./definition";
