/**
 * @module @arraystore/cli — the `convert` command line as a library: run it in-process
 * (`runCli`), or build the registry it uses (`registerBuiltinAdapters`).
 */
export {
	type BuiltinOptions,
	builtinRegistry,
	FORMAT_ALIASES,
	OUTPUT_EXTENSIONS,
	registerBuiltinAdapters,
} from "./adapters.js";
export { HELP, runCli, VERSION } from "./cli.js";
export type { CommandContext } from "./commands/convert.js";
export {
	EXIT,
	errorCodeOf,
	errorLine,
	exitCodeFor,
	UsageError,
} from "./errors.js";
export { parseCodecs, parseMemory, parseShapeList } from "./options.js";
export {
	commitOutput,
	discardPartial,
	fileJournalStorage,
	type OutputPaths,
	outputPaths,
	PARTIAL_SUFFIX,
	pathExists,
	sourceFingerprint,
} from "./output.js";
