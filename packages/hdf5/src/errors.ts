/**
 * Translation of h5wasm failures (HDF5-DIAG stacks thrown as `Error`, bare strings, wasm
 * allocation failures) into arraystore's typed errors, always with `cause` set.
 */
import {
	ArrayStoreError,
	type ErrorDetails,
	IoError,
	LimitExceededError,
	MalformedError,
	NotFoundError,
	ReadOnlyError,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";

/** The adapter name errors carry. */
export const ADAPTER = "hdf5";

/** Short text of an h5wasm failure: HDF5's innermost "in FUNC(): what" lines. */
export function nativeMessage(err: unknown): string {
	const text = err instanceof Error ? err.message : String(err);
	if (!text.includes("HDF5-DIAG")) return text.split("\n")[0] ?? text;
	const found = [...text.matchAll(/ in (\w+)\(\): ([^\n]+)/g)].map(
		(m) => `${m[1]}: ${m[2]?.trim()}`,
	);
	const minors = [...text.matchAll(/minor: ([^\n]+)/g)].map((m) =>
		m[1]?.trim(),
	);
	const last = found.slice(-2).join("; ");
	const minor = minors[minors.length - 1];
	return minor ? `${last} (${minor})` : last || text.split("\n")[0] || text;
}

/** Maps an h5wasm failure to an arraystore error (arraystore errors and aborts pass through). */
export function translate(
	err: unknown,
	what: string,
	details: ErrorDetails = {},
): unknown {
	if (err instanceof ArrayStoreError) return err;
	if (err instanceof Error && err.name === "AbortError") return err;
	const d = { adapter: ADAPTER, ...details, cause: err };
	const text = err instanceof Error ? err.message : String(err);
	const short = nativeMessage(err);
	if (
		/exceeds maximum memory|Memory allocation of \d+ bytes failed|Cannot enlarge memory|out of memory/i.test(
			text,
		)
	) {
		return new LimitExceededError(
			`${what}: the HDF5 wasm heap (2 GiB) cannot hold this request (${short})`,
			d,
		);
	}
	if (
		/is not a recognized dtype|not supported/i.test(text) &&
		!text.includes("HDF5-DIAG")
	) {
		return new UnsupportedDTypeError(`${what}: ${short}`, {
			...d,
			format: ADAPTER,
		});
	}
	if (/no write intent|file is read-only|read-only/i.test(text))
		return new ReadOnlyError(`${what}: ${short}`, d);
	if (
		/doesn't exist|does not exist|not found|name not defined|object '.*' doesn't exist/i.test(
			text,
		)
	) {
		return new NotFoundError(`${what}: ${short}`, d);
	}
	if (
		/file signature not found|truncated|bad object header|corrupt|checksum|wrong B-tree signature|bad symbol table|unable to load|incorrect metadata checksum|not an HDF5 file/i.test(
			text,
		)
	) {
		return new MalformedError(`${what}: ${short}`, d);
	}
	if (
		/already open|unable to truncate a file which is already open/i.test(text)
	) {
		return new UnsupportedError(
			`${what}: the file is already open in another mode in this process (${short})`,
			d,
		);
	}
	return new IoError(`${what}: ${short}`, d);
}

/** Runs a synchronous h5wasm call and translates whatever it throws. */
export function h5call<T>(what: string, details: ErrorDetails, fn: () => T): T {
	try {
		return fn();
	} catch (err) {
		throw translate(err, what, details);
	}
}
