export { azureKmsProvider } from "./definition";
