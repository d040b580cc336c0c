export { gcpKmsProvider } from "./definition";
