/**
 * Array drivers over `.npz` members: deflated members read through an inflate cursor
 * (read-only), stored members through raw's mapped region with a hook that tells the archive
 * its CRC must be recomputed.
 */

import type { FileHandle } from "node:fs/promises";
import {
	type ArrayDriver,
	type ArrayInfo,
	ClosedError,
	ReadOnlyError,
	type Region,
	slabShape,
	UnsupportedError,
	wrapError,
} from "@arraystore/core";
import type { RawRegionDriver } from "@arraystore/raw";
import { boxRuns } from "../box-runs.js";
import type { NpyHeader } from "../header.js";
import { readNpyHeaderFrom } from "../header.js";
import type { NpyDriver } from "../npy-driver.js";
import type { NpyReadTuning } from "../options.js";
import { type DeflatedSpan, InflateCursor } from "../zip/inflate-cursor.js";

/** Adapter name used in errors. */
export const NPZ_ADAPTER = "npz";

/**
 * A driver over a deflated member. Reads inflate the stream; the first write (mode r+) calls
 * `materialize`, which inflates the member into a temporary `.npy` that the archive deflates
 * again at close, and from then on everything goes to that file.
 */
export class DeflatedMemberDriver implements ArrayDriver {
	readonly info: ArrayInfo;
	readonly #cursor: InflateCursor;
	readonly #header: NpyHeader;
	readonly #target: string;
	readonly #onClose: () => void;
	readonly #materialize: (() => Promise<ArrayDriver>) | null;
	#copy: Promise<ArrayDriver> | null = null;
	#closing: Promise<void> | null = null;

	constructor(
		cursor: InflateCursor,
		header: NpyHeader,
		target: string,
		onClose: () => void,
		materialize: (() => Promise<ArrayDriver>) | null,
	) {
		this.#cursor = cursor;
		this.#header = header;
		this.#target = target;
		this.#onClose = onClose;
		this.#materialize = materialize;
		const order = header.fortranOrder ? "F" : "C";
		this.info = Object.freeze({
			dtype: header.dtype,
			shape: Object.freeze([...header.shape]),
			order,
			chunks: null,
			blockShape: Object.freeze(
				slabShape(header.shape, header.dtype.itemsize, order),
			),
			fillValue: null,
			codecs: Object.freeze([Object.freeze({ name: "deflate" })]),
			byteOffset: null,
		});
	}

	async read(
		region: Region,
		out: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		this.#check();
		if (this.#copy) return (await this.#copy).read(region, out, signal);
		const h = this.#header;
		const runs = boxRuns(
			h.shape,
			this.info.order,
			h.dtype.itemsize,
			h.dataOffset,
			region,
			out.byteLength,
		);
		await this.#cursor.read(runs, out, signal);
	}

	async write(
		region: Region,
		bytes: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		this.#check();
		if (this.#materialize === null)
			throw new ReadOnlyError("opened read-only (mode r)", this.#details());
		this.#copy ??= this.#materialize();
		const copy = await this.#copy;
		if (!copy.write)
			throw new ReadOnlyError("opened read-only", this.#details());
		await copy.write(region, bytes, signal);
	}

	async flush(options?: { readonly durable?: boolean }): Promise<void> {
		this.#check();
		if (this.#copy) await (await this.#copy).flush?.(options);
	}

	close(): Promise<void> {
		this.#closing ??= (async () => {
			try {
				const copy = this.#copy ? await this.#copy.catch(() => null) : null;
				await copy?.close();
			} finally {
				await this.#cursor.close();
				this.#onClose();
			}
		})();
		return this.#closing;
	}

	#check(): void {
		if (this.#closing)
			throw new ClosedError("the npz member is closed", this.#details());
	}

	#details() {
		return { target: this.#target, adapter: NPZ_ADAPTER };
	}
}

/** Wraps a stored member's region: writes mark the member's CRC stale; close notifies the archive. */
export function storedMemberDriver(
	region: RawRegionDriver,
	onWrite: () => void,
	onClose: () => void,
): ArrayDriver {
	let closing: Promise<void> | null = null;
	const inner = region;
	return {
		get info(): ArrayInfo {
			return inner.info;
		},
		read: (r, out, signal) => inner.read(r, out, signal),
		...(inner.mode !== "r"
			? {
					async write(
						r: Region,
						bytes: Uint8Array,
						signal?: AbortSignal,
					): Promise<void> {
						if (!inner.write) throw new UnsupportedError("read-only member");
						onWrite();
						await inner.write(r, bytes, signal);
					},
				}
			: {}),
		flush: (options) => inner.flush(options),
		close(): Promise<void> {
			closing ??= inner.close().finally(onClose);
			return closing;
		},
	};
}

/** Opens a deflated member: reads its npy header through a new inflate cursor. */
export async function openDeflatedMember(
	fh: FileHandle,
	span: DeflatedSpan,
	options: NpyReadTuning & {
		readonly cacheBytes?: number;
		readonly signal?: AbortSignal;
		readonly target: string;
		readonly onClose: () => void;
		readonly materialize:
			| ((cursor: InflateCursor) => Promise<ArrayDriver>)
			| null;
	},
): Promise<DeflatedMemberDriver> {
	const cursor = new InflateCursor(fh, span, {
		cacheBytes: options.cacheBytes,
	});
	try {
		const header = await readNpyHeaderFrom(
			async (at, length) => {
				const out = new Uint8Array(length);
				await cursor.read(
					[{ position: at, length, outOffset: 0 }],
					out,
					options.signal,
				);
				return out;
			},
			{ ...options, available: span.uncompressedSize },
		);
		const materialize = options.materialize;
		return new DeflatedMemberDriver(
			cursor,
			header,
			options.target,
			options.onClose,
			materialize ? () => materialize(cursor) : null,
		);
	} catch (err) {
		await cursor.close();
		throw wrapError(err, { target: options.target, adapter: NPZ_ADAPTER });
	}
}

/** The npy driver of a pending member (deflated into the archive at close). */
export function npyMemberDriver(
	inner: NpyDriver,
	onClose: () => void,
): ArrayDriver {
	return {
		get info() {
			return inner.info;
		},
		read: (r, out, signal) => inner.read(r, out, signal),
		...(inner.mode === "r"
			? {}
			: {
					write: (r: Region, bytes: Uint8Array, signal?: AbortSignal) =>
						inner.write(r, bytes, signal),
				}),
		flush: (o) => inner.flush(o),
		close: () => inner.close().finally(onClose),
	};
}
