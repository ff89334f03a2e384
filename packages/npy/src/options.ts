/**
 * Adapter options shared by the npy and npz adapters (`adapterOptions` of open/create), checked
 * so a typo'd type fails loudly instead of being ignored.
 */
import {
	type DType,
	type DTypeSupport,
	hasListDescr,
	UnsupportedError,
} from "@arraystore/core";
import type { RawRegionOptions } from "@arraystore/raw";

/** Tuning passed through to raw's region driver. */
export type RegionTuning = Pick<
	RawRegionOptions,
	"mmap" | "windowBytes" | "maxWindows" | "maxPrivateBytes" | "directWrites"
>;

/** Options the npy reader understands. */
export interface NpyReadTuning extends RegionTuning {
	/** Largest HEADER_LEN accepted; default 16 MiB. */
	readonly maxHeaderBytes?: number;
}

/** Reads `mmap`, `directWrites`, `windowBytes`, `maxWindows`, `maxPrivateBytes` and `maxHeaderBytes`. */
export function readTuning(
	opts: Readonly<Record<string, unknown>>,
	target: string,
	adapter: string,
): NpyReadTuning {
	const out: { -readonly [K in keyof NpyReadTuning]: NpyReadTuning[K] } = {};
	for (const key of ["mmap", "directWrites"] as const) {
		const v = opts[key];
		if (v === undefined) continue;
		if (typeof v !== "boolean")
			throw new UnsupportedError(`adapterOptions.${key} must be a boolean`, {
				target,
				adapter,
			});
		out[key] = v;
	}
	for (const key of [
		"windowBytes",
		"maxWindows",
		"maxPrivateBytes",
		"maxHeaderBytes",
	] as const) {
		const v = opts[key];
		if (v === undefined) continue;
		if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
			throw new UnsupportedError(
				`adapterOptions.${key} must be a positive integer`,
				{ target, adapter },
			);
		}
		out[key] = v;
	}
	return out;
}

/**
 * What npy (and npz members) can store: every fixed-size dtype whose `descr` numpy can write.
 * Object arrays would need pickle; overlapping records have no list `descr`.
 */
export function checkNpyDType(dtype: DType): DTypeSupport {
	if (dtype.kind === "O")
		return {
			ok: false,
			reason:
				"object arrays (and vlen strings) need pickle; npy stores fixed-size elements only",
		};
	if (dtype.subarray)
		return {
			ok: false,
			reason: "a sub-array type is only valid as a record field",
		};
	if (dtype.itemsize <= 0) return { ok: false, reason: "zero-size elements" };
	if (!hasListDescr(dtype))
		return {
			ok: false,
			reason:
				"records whose fields overlap or are out of order have no npy descr",
		};
	return { ok: true };
}
