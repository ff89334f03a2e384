/**
 * Exit codes and one-line error messages: 0 ok, 1 bad input (a typed error, shown with its
 * code), 2 usage error, 3 I/O failure (disk full, permission, interrupted). Stack traces only
 * with `--debug`.
 */
import { isArrayStoreError } from "@arraystore/core";

/** The command line itself is wrong (unknown flag, bad value, missing operand). */
export class UsageError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "UsageError";
	}
}

/** Exit codes. */
export const EXIT: {
	readonly ok: 0;
	readonly badInput: 1;
	readonly usage: 2;
	readonly io: 3;
} = Object.freeze({
	ok: 0,
	badInput: 1,
	usage: 2,
	io: 3,
} as const);

/** True for an abort (Ctrl-C) reason. */
export function isAbort(err: unknown): boolean {
	return (
		err instanceof Error &&
		(err.name === "AbortError" || err.name === "InterruptError")
	);
}

/** The exit code of an error. */
export function exitCodeFor(err: unknown): number {
	if (err instanceof UsageError) return EXIT.usage;
	if (isAbort(err)) return EXIT.io;
	if (isArrayStoreError(err))
		return err.code === "IO_ERROR" ? EXIT.io : EXIT.badInput;
	return EXIT.io;
}

/** The error code shown to users ("USAGE", "INTERRUPTED", "INTERNAL" or a typed code). */
export function errorCodeOf(err: unknown): string {
	if (err instanceof UsageError) return "USAGE";
	if (isAbort(err)) return "INTERRUPTED";
	if (isArrayStoreError(err)) return err.code;
	return "INTERNAL";
}

/** One line: `CODE: message` (the message's own line breaks folded). */
export function errorLine(err: unknown): string {
	const message =
		err instanceof Error
			? err.message
			: typeof err === "string"
				? err
				: String(err);
	const oneLine = message.replace(/\s*\n\s*/g, " ").trim();
	if (err instanceof UsageError) return `${oneLine} (see convert --help)`;
	if (isAbort(err))
		return "interrupted; the partial output is kept, run the same command again (or with --resume) to continue";
	return `${errorCodeOf(err)}: ${oneLine}`;
}

/** The stack and cause chain, for `--debug`. */
export function errorDetails(err: unknown): string {
	const parts: string[] = [];
	let e: unknown = err;
	for (let depth = 0; e !== undefined && depth < 8; depth++) {
		parts.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
		e = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
		if (e !== undefined) parts.push("caused by:");
	}
	return parts.join("\n");
}
