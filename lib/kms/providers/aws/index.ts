export { awsKmsProvider } from "./definition";
