/**
 * Typed errors with stable codes. Every failure an adapter can meet is translated into one of
 * these (with `cause` set), so callers branch on `code`, never on message text.
 */

/** Stable error codes: the public contract. */
export type ErrorCode =
	| "NOT_FOUND"
	| "ALREADY_EXISTS"
	| "READ_ONLY"
	| "CLOSED"
	| "INVALID_SELECTION"
	| "SHAPE_MISMATCH"
	| "DTYPE_MISMATCH"
	| "UNSUPPORTED_DTYPE"
	| "UNSUPPORTED_CODEC"
	| "UNSUPPORTED"
	| "LAYOUT_REQUIRED"
	| "MALFORMED"
	| "TRUNCATED"
	| "OUT_OF_BOUNDS"
	| "SIZE_MISMATCH"
	| "UNSUPPORTED_VERSION"
	| "FORBIDDEN_GLOBAL"
	| "LIMIT_EXCEEDED"
	| "NO_ADAPTER"
	| "AMBIGUOUS_FORMAT"
	| "IO_ERROR";

/** Context every error may carry. */
export interface ErrorDetails {
	/** The file, store or `file#path` the error is about. */
	readonly target?: string;
	/** The adapter that raised it ("npy", "hdf5", …). */
	readonly adapter?: string;
	/** The native error this one translates. */
	readonly cause?: unknown;
}

/** Base class of every error arraystore throws. */
export class ArrayStoreError extends Error {
	readonly code: ErrorCode;
	readonly target: string | undefined;
	readonly adapter: string | undefined;

	constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
		super(
			message,
			details.cause === undefined ? undefined : { cause: details.cause },
		);
		this.name = new.target.name;
		this.code = code;
		this.target = details.target;
		this.adapter = details.adapter;
	}
}

/** File, path, key or dataset missing. */
export class NotFoundError extends ArrayStoreError {
	declare readonly code: "NOT_FOUND";
	constructor(message: string, details?: ErrorDetails) {
		super("NOT_FOUND", message, details);
	}
}

/** Exclusive create over an existing target. */
export class AlreadyExistsError extends ArrayStoreError {
	declare readonly code: "ALREADY_EXISTS";
	constructor(message: string, details?: ErrorDetails) {
		super("ALREADY_EXISTS", message, details);
	}
}

/** Write in mode `r`, or to a read-only format. */
export class ReadOnlyError extends ArrayStoreError {
	declare readonly code: "READ_ONLY";
	constructor(message: string, details?: ErrorDetails) {
		super("READ_ONLY", message, details);
	}
}

/** Any use after `close()`. */
export class ClosedError extends ArrayStoreError {
	declare readonly code: "CLOSED";
	constructor(message: string, details?: ErrorDetails) {
		super("CLOSED", message, details);
	}
}

/** Bad index or slice, or a path that escapes its target. */
export class InvalidSelectionError extends ArrayStoreError {
	declare readonly code: "INVALID_SELECTION";
	constructor(message: string, details?: ErrorDetails) {
		super("INVALID_SELECTION", message, details);
	}
}

/** Written data's size differs from the selection's. */
export class ShapeMismatchError extends ArrayStoreError {
	declare readonly code: "SHAPE_MISMATCH";
	constructor(message: string, details?: ErrorDetails) {
		super("SHAPE_MISMATCH", message, details);
	}
}

/** Written `ArrayData` has another element layout. */
export class DTypeMismatchError extends ArrayStoreError {
	declare readonly code: "DTYPE_MISMATCH";
	constructor(message: string, details?: ErrorDetails) {
		super("DTYPE_MISMATCH", message, details);
	}
}

/** A feature or mode the format or adapter lacks. */
export class UnsupportedError extends ArrayStoreError {
	declare readonly code: "UNSUPPORTED";
	constructor(message: string, details?: ErrorDetails) {
		super("UNSUPPORTED", message, details);
	}
}

/** A raw file without dtype/shape and without a sidecar. */
export class LayoutRequiredError extends ArrayStoreError {
	declare readonly code: "LAYOUT_REQUIRED";
	constructor(message: string, details?: ErrorDetails) {
		super("LAYOUT_REQUIRED", message, details);
	}
}

/** Structure not as specified (bad header, opcode or metadata). */
export class MalformedError extends ArrayStoreError {
	declare readonly code: "MALFORMED";
	constructor(message: string, details?: ErrorDetails) {
		super("MALFORMED", message, details);
	}
}

/** End of file inside a header, frame, opcode or payload. */
export class TruncatedError extends ArrayStoreError {
	declare readonly code: "TRUNCATED";
	constructor(message: string, details?: ErrorDetails) {
		super("TRUNCATED", message, details);
	}
}

/** A declared length or offset points past its frame or the file. */
export class OutOfBoundsError extends ArrayStoreError {
	declare readonly code: "OUT_OF_BOUNDS";
	constructor(message: string, details?: ErrorDetails) {
		super("OUT_OF_BOUNDS", message, details);
	}
}

/** Stored payload length differs from prod(shape) × itemsize. */
export class SizeMismatchError extends ArrayStoreError {
	declare readonly code: "SIZE_MISMATCH";
	constructor(message: string, details?: ErrorDetails) {
		super("SIZE_MISMATCH", message, details);
	}
}

/** A format version this reader does not know. */
export class UnsupportedVersionError extends ArrayStoreError {
	declare readonly code: "UNSUPPORTED_VERSION";
	constructor(message: string, details?: ErrorDetails) {
		super("UNSUPPORTED_VERSION", message, details);
	}
}

/** Memory budget, overlay cap, header cap, pickle VM limit or the 4 GiB block limit. */
export class LimitExceededError extends ArrayStoreError {
	declare readonly code: "LIMIT_EXCEEDED";
	constructor(message: string, details?: ErrorDetails) {
		super("LIMIT_EXCEEDED", message, details);
	}
}

/** No adapter matched the target. */
export class NoAdapterError extends ArrayStoreError {
	declare readonly code: "NO_ADAPTER";
	constructor(message: string, details?: ErrorDetails) {
		super("NO_ADAPTER", message, details);
	}
}

/** More than one adapter matched the target. */
export class AmbiguousFormatError extends ArrayStoreError {
	declare readonly code: "AMBIGUOUS_FORMAT";
	constructor(message: string, details?: ErrorDetails) {
		super("AMBIGUOUS_FORMAT", message, details);
	}
}

/** The format cannot express a dtype. */
export class UnsupportedDTypeError extends ArrayStoreError {
	declare readonly code: "UNSUPPORTED_DTYPE";
	/** The dtype as a numpy string. */
	readonly dtype: string | undefined;
	/** The format that refused it. */
	readonly format: string | undefined;
	constructor(
		message: string,
		details: ErrorDetails & { dtype?: string; format?: string } = {},
	) {
		super("UNSUPPORTED_DTYPE", message, details);
		this.dtype = details.dtype;
		this.format = details.format;
	}
}

/** An HDF5 filter or Zarr codec that is not available. */
export class UnsupportedCodecError extends ArrayStoreError {
	declare readonly code: "UNSUPPORTED_CODEC";
	/** The codec or filter name (or id). */
	readonly codec: string;
	/** Whether decoding or encoding was asked for. */
	readonly direction: "decode" | "encode";
	constructor(
		message: string,
		details: ErrorDetails & { codec: string; direction?: "decode" | "encode" },
	) {
		super("UNSUPPORTED_CODEC", message, details);
		this.codec = details.codec;
		this.direction = details.direction ?? "decode";
	}
}

/** A pickle global or call shape outside the allowlist. */
export class ForbiddenGlobalError extends ArrayStoreError {
	declare readonly code: "FORBIDDEN_GLOBAL";
	/** `module.qualname` of the refused global. */
	readonly global: string;
	constructor(message: string, details: ErrorDetails & { global: string }) {
		super("FORBIDDEN_GLOBAL", message, details);
		this.global = details.global;
	}
}

/** Any other operating-system failure; `cause.code` keeps the errno name. */
export class IoError extends ArrayStoreError {
	declare readonly code: "IO_ERROR";
	/** errno name such as "ENOSPC", when known. */
	readonly errno: string | undefined;
	constructor(
		message: string,
		details: ErrorDetails & { errno?: string } = {},
	) {
		super("IO_ERROR", message, details);
		this.errno = details.errno;
	}
}

/** Narrows `err` to an arraystore error, optionally with one of `codes`. */
export function isArrayStoreError<C extends ErrorCode>(
	err: unknown,
	...codes: C[]
): err is ArrayStoreError & { readonly code: C } {
	return (
		err instanceof ArrayStoreError &&
		(codes.length === 0 || (codes as ErrorCode[]).includes(err.code))
	);
}

/**
 * Translates an OS error (ENOENT, EACCES, ENOSPC …) into our error classes. Arraystore errors
 * and abort reasons pass through unchanged.
 */
export function fromNodeError(
	err: unknown,
	details: ErrorDetails = {},
): unknown {
	if (err instanceof ArrayStoreError) return err;
	if (err instanceof Error && err.name === "AbortError") return err;
	const errno = (err as { code?: unknown } | null)?.code;
	const what = details.target ?? "target";
	const d = { ...details, cause: err };
	if (errno === "ENOENT") return new NotFoundError(`${what} does not exist`, d);
	if (errno === "EEXIST")
		return new AlreadyExistsError(`${what} already exists`, d);
	if (errno === "EACCES" || errno === "EPERM" || errno === "EROFS")
		return new IoError(`permission denied: ${what}`, { ...d, errno });
	const message = err instanceof Error ? err.message : String(err);
	return new IoError(`${what}: ${message}`, {
		...d,
		errno: typeof errno === "string" ? errno : undefined,
	});
}

/**
 * Wraps anything thrown below the public API: arraystore errors gain missing context, abort
 * reasons pass unchanged, OS errors are translated, and anything else becomes an `IoError`
 * carrying it as `cause` (so no bare Error or string escapes).
 */
export function wrapError(err: unknown, details: ErrorDetails = {}): unknown {
	if (err instanceof ArrayStoreError) {
		const e = err as {
			target: string | undefined;
			adapter: string | undefined;
		};
		if (e.target === undefined) e.target = details.target;
		if (e.adapter === undefined) e.adapter = details.adapter;
		return err;
	}
	if (
		err instanceof Error &&
		(err.name === "AbortError" || err.name === "TimeoutError")
	)
		return err;
	if (typeof (err as { code?: unknown } | null)?.code === "string")
		return fromNodeError(err, details);
	const message = err instanceof Error ? err.message : String(err);
	return new IoError(`${details.target ?? "store"}: ${message}`, {
		...details,
		cause: err,
	});
}
