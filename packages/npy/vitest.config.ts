export { default } from "@arraystore/vitest-config";
