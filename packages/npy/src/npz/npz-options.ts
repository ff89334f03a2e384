/**
 * `adapterOptions` of the npz adapter and archive, checked so a wrong type fails loudly.
 */
import {
	type DriverCreateOptions,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";
import { checkNpyDType, type NpyReadTuning, readTuning } from "../options.js";
import { NPZ_ADAPTER } from "./member-drivers.js";

/** Options of an npz archive. */
export interface NpzOptions extends NpyReadTuning {
	/** Largest central directory read into memory; default 64 MiB. */
	readonly maxDirectoryBytes?: number;
	/** Deflated members up to this size are inflated once and cached; default 16 MiB. */
	readonly cacheBytes?: number;
	/** How new members are written: "stored" (np.savez, the default) or "deflated" (np.savez_compressed). */
	readonly compression?: "stored" | "deflated";
	/** Write zip64 records even when nothing needs them (numpy's savez forces zip64 local headers). */
	readonly forceZip64?: boolean;
}

/** Reads and checks npz adapter options. */
export function readNpzOptions(
	opts: Readonly<Record<string, unknown>>,
	target: string,
): NpzOptions {
	const out: { -readonly [K in keyof NpzOptions]: NpzOptions[K] } = {
		...readTuning(opts, target, NPZ_ADAPTER),
	};
	for (const key of ["maxDirectoryBytes", "cacheBytes"] as const) {
		const v = opts[key];
		if (v === undefined) continue;
		if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
			throw new UnsupportedError(
				`adapterOptions.${key} must be a non-negative integer`,
				{ target, adapter: NPZ_ADAPTER },
			);
		out[key] = v;
	}
	const c = opts.compression;
	if (c !== undefined) {
		if (c !== "stored" && c !== "deflated")
			throw new UnsupportedError(
				'adapterOptions.compression must be "stored" or "deflated"',
				{ target, adapter: NPZ_ADAPTER },
			);
		out.compression = c;
	}
	const z = opts.forceZip64;
	if (z !== undefined) {
		if (typeof z !== "boolean")
			throw new UnsupportedError(
				"adapterOptions.forceZip64 must be a boolean",
				{ target, adapter: NPZ_ADAPTER },
			);
		out.forceZip64 = z;
	}
	return out;
}

/**
 * Checks a member's create options (before anything is written) and returns its key.
 * @throws {UnsupportedDTypeError} dtypes npy cannot describe.
 * @throws {UnsupportedError} chunks, codecs, attributes, an offset, or a bad name.
 */
export function checkMemberCreate(
	path: string,
	spec: DriverCreateOptions,
	target: string,
): string {
	const details = { target, adapter: NPZ_ADAPTER };
	const support = checkNpyDType(spec.dtype);
	if (!support.ok) {
		throw new UnsupportedDTypeError(
			`npz cannot store ${spec.dtype.str}: ${support.reason}`,
			{ ...details, dtype: spec.dtype.str, format: NPZ_ADAPTER },
		);
	}
	if (spec.chunks != null)
		throw new UnsupportedError("npz members are not chunked", details);
	if ((spec.codecs?.length ?? 0) > 0)
		throw new UnsupportedError(
			"npz members take no codecs; use adapterOptions.compression",
			details,
		);
	if (spec.attrs !== undefined && Object.keys(spec.attrs).length > 0)
		throw new UnsupportedError("npz members have no attributes", details);
	if (spec.offset !== 0)
		throw new UnsupportedError(
			"the npy header decides the data offset; offset must be 0",
			details,
		);
	const key = path.replace(/^\/+/, "");
	if (key === "" || key.includes("\0"))
		throw new UnsupportedError(
			`bad npz member name ${JSON.stringify(path)}`,
			details,
		);
	return key;
}
