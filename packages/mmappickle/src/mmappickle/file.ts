/**
 * An open mmappickle file: its frame layout, lazily decoded generic values, and the write
 * operations of formats.md §5.6/§5.11 (append, overwrite = invalidate + append, delete = one
 * byte, commit counter). Every write validates first, and a failed write truncates back and
 * restores the terminator, so the file always stays loadable.
 */
import { type FileHandle, open } from "node:fs/promises";
import {
	type AttrValue,
	type DType,
	fromNodeError,
	InvalidSelectionError,
	NotFoundError,
} from "@arraystore/core";
import { readAt } from "../file-read.js";
import { ByteReader, fileInput } from "../pickle-vm/byte-reader.js";
import type { PyValue } from "../pickle-vm/values.js";
import { runPickle, type VmLimits } from "../pickle-vm/vm.js";
import {
	type ArrayFragment,
	type Entry,
	type Layout,
	readArrayEntry,
	readLayout,
	readMaskedEntry,
} from "./entries.js";
import {
	arrayFragmentParts,
	COMMIT_OFFSET,
	concat,
	DEAD,
	encodeHeader,
	entryHead,
	entryTrailer,
	TERMINATOR,
} from "./format.js";
import { pickleValue } from "./pickler.js";

/** Options of {@link MmpFile.open}. */
export interface MmpFileOptions {
	/** "w+" creates (or replaces) the file. */
	readonly mode: "r" | "r+" | "w+";
	/** Data alignment of new array entries: 64 (default) or false for mmappickle's exact bytes. */
	readonly align?: number | false;
	readonly vmLimits?: Partial<VmLimits>;
}

const MAX_KEY_BYTES = 255;
// A dead entry with key '' and a SHORT_BINBYTES value: 21 bytes + its blob.
const TOMBSTONE_MIN = 21;

/** One mmappickle file. */
export class MmpFile {
	readonly path: string;
	readonly writable: boolean;
	readonly #fh: FileHandle;
	#layout: Layout;
	readonly #align: number | false;
	readonly #limits: Partial<VmLimits> | undefined;
	readonly #values = new Map<Entry, Promise<PyValue>>();

	private constructor(
		path: string,
		fh: FileHandle,
		layout: Layout,
		writable: boolean,
		options: MmpFileOptions,
	) {
		this.path = path;
		this.#fh = fh;
		this.#layout = layout;
		this.writable = writable;
		this.#align = options.align === undefined ? 64 : options.align;
		this.#limits = options.vmLimits;
	}

	/**
	 * Opens (or, mode w+, creates) a file and reads its layout.
	 * @throws {NotFoundError} missing file (r, r+).
	 */
	static async open(path: string, options: MmpFileOptions): Promise<MmpFile> {
		let fh: FileHandle;
		try {
			fh = await open(
				path,
				options.mode === "r" ? "r" : options.mode === "r+" ? "r+" : "w+",
			);
		} catch (err) {
			throw fromNodeError(err, { target: path, adapter: "mmappickle" });
		}
		try {
			if (options.mode === "w+")
				await fh.write(concat([encodeHeader(0), TERMINATOR]), 0, 35, 0);
			const size = (await fh.stat()).size;
			const layout = await readLayout(fh, size);
			return new MmpFile(path, fh, layout, options.mode !== "r", options);
		} catch (err) {
			await fh.close().catch(() => {});
			throw err;
		}
	}

	/** Live entries by key (the last live frame of a key wins, as `DICT` does). */
	live(): Map<string, Entry> {
		const m = new Map<string, Entry>();
		for (const e of this.#layout.entries) if (e.live) m.set(e.key, e);
		return m;
	}

	get commit(): number {
		return this.#layout.commit;
	}

	get size(): number {
		return this.#layout.size;
	}

	/** All frames, dead ones included. */
	get entries(): readonly Entry[] {
		return this.#layout.entries;
	}

	/** The array of an ndarray entry. */
	arrayOf(e: Entry): Promise<ArrayFragment> {
		return readArrayEntry(this.#fh, e);
	}

	/** Data and mask of a masked entry. */
	maskedOf(e: Entry): Promise<{ data: ArrayFragment; mask: ArrayFragment }> {
		return readMaskedEntry(this.#fh, e);
	}

	/** Decodes a generic value with the restricted VM (cached per entry). */
	valueOf(e: Entry): Promise<PyValue> {
		let p = this.#values.get(e);
		if (!p) {
			const reader = new ByteReader(
				fileInput(this.#fh, e.valueOffset + e.valueLength),
				e.valueOffset,
				`mmappickle value ${JSON.stringify(e.key)}`,
			);
			p = runPickle(reader, {
				fragment: true,
				...(this.#limits ? { limits: this.#limits } : {}),
			});
			this.#values.set(e, p);
		}
		return p;
	}

	/** Reads `n` bytes at `pos`. */
	read(pos: number, n: number): Promise<Uint8Array> {
		return readAt(this.#fh, pos, n, {
			target: this.path,
			adapter: "mmappickle",
		});
	}

	/**
	 * Appends an array entry for `key` (overwriting a live one) whose data region is left as a
	 * sparse hole of zeros; returns the data offset.
	 */
	async putArray(
		key: string,
		dtype: DType,
		shape: readonly number[],
	): Promise<number> {
		const keyBytes = this.#checkKey(key);
		const { head, tail, nbytes } = arrayFragmentParts(dtype, shape);
		const T = this.#layout.size - TERMINATOR.length;
		let tomb: Uint8Array = new Uint8Array(0);
		const added: Entry[] = [];
		if (this.#align !== false) {
			const dataAt = T + 11 + keyBytes.length + head.length;
			let g = (this.#align - (dataAt % this.#align)) % this.#align;
			while (g > 0 && g < TOMBSTONE_MIN) g += this.#align;
			if (g > 0) {
				tomb = this.#tombstone(g);
				added.push(
					entryAt(T, "", 0, g - 19, this.#maxMemo(0), false, "generic"),
				);
			}
		}
		const valueLength = head.length + nbytes + tail.length;
		const before = concat([tomb, entryHead(keyBytes, valueLength), head]);
		const after = concat([tail, entryTrailer(0, true), TERMINATOR]);
		const dataOffset = T + before.length;
		added.push(
			entryAt(
				T + tomb.length,
				key,
				keyBytes.length,
				valueLength,
				0,
				true,
				"ndarray",
			),
		);
		await this.#append(T, before, nbytes, after, added);
		this.#values.clear();
		return dataOffset;
	}

	/** Appends a generic value entry for `key` (overwriting a live one). */
	async putValue(key: string, value: AttrValue): Promise<void> {
		const keyBytes = this.#checkKey(key);
		const fragment = pickleValue(value);
		const T = this.#layout.size - TERMINATOR.length;
		const memo = this.#maxMemo(1);
		const bytes = concat([
			entryHead(keyBytes, fragment.length),
			fragment,
			entryTrailer(memo, true),
			TERMINATOR,
		]);
		await this.#append(T, bytes, 0, new Uint8Array(0), [
			entryAt(T, key, keyBytes.length, fragment.length, memo, true, "generic"),
		]);
		this.#values.clear();
	}

	/**
	 * Deletes a live key: one byte flips its valid flag; commit + 1.
	 * @throws {NotFoundError}
	 */
	async delete(key: string): Promise<void> {
		const e = this.live().get(key);
		if (!e)
			throw new NotFoundError(`mmappickle: no key ${JSON.stringify(key)}`);
		await this.#kill(e);
		await this.#setCommit(this.#layout.commit + 1);
	}

	/** fsync. */
	async sync(): Promise<void> {
		try {
			await this.#fh.sync();
		} catch (err) {
			throw fromNodeError(err, { target: this.path, adapter: "mmappickle" });
		}
	}

	async close(): Promise<void> {
		await this.#fh.close().catch(() => {});
	}

	// --- internal ---

	#checkKey(key: string): Uint8Array {
		const b = Buffer.from(key, "utf8");
		if (b.length > MAX_KEY_BYTES)
			throw new InvalidSelectionError(
				`mmappickle keys are at most ${MAX_KEY_BYTES} UTF-8 bytes (${JSON.stringify(key.slice(0, 40))}… has ${b.length})`,
			);
		return new Uint8Array(b.buffer, b.byteOffset, b.length);
	}

	#tombstone(g: number): Uint8Array {
		const blob = g - TOMBSTONE_MIN;
		const memo = this.#maxMemo(0);
		const value = concat([Uint8Array.from([0x43, blob]), new Uint8Array(blob)]);
		return concat([
			entryHead(new Uint8Array(0), value.length),
			value,
			entryTrailer(memo, false),
		]);
	}

	/**
	 * Writes `before`, a hole of `gap` zero bytes and `after` at `T` (the terminator's offset),
	 * then invalidates the key's previous live entry and bumps the commit number. On failure the
	 * file is cut back to `T` and the terminator rewritten.
	 */
	async #append(
		T: number,
		before: Uint8Array,
		gap: number,
		after: Uint8Array,
		added: readonly Entry[],
	): Promise<void> {
		const fh = this.#fh;
		const newSize = T + before.length + gap + after.length;
		try {
			await fh.truncate(newSize);
			if (after.length > 0) await writeAll(fh, after, T + before.length + gap);
			await writeAll(fh, before, T);
		} catch (err) {
			await fh.truncate(T + TERMINATOR.length).catch(() => {});
			await writeAll(fh, TERMINATOR, T).catch(() => {});
			throw fromNodeError(err, { target: this.path, adapter: "mmappickle" });
		}
		const old = this.#layout;
		const key = added[added.length - 1]?.key;
		const prev = old.entries.filter((e) => e.live && e.key === key);
		this.#layout = {
			...old,
			size: newSize,
			entries: [...old.entries, ...added],
		};
		for (const e of prev) await this.#kill(e);
		await this.#setCommit(old.commit + (prev.length > 0 ? 2 : 1));
	}

	/** The largest memo-max index of all frames, at least `floor`. */
	#maxMemo(floor: number): number {
		let m = floor;
		for (const e of this.#layout.entries) if (e.memo > m) m = e.memo;
		return m;
	}

	async #kill(e: Entry): Promise<void> {
		await writeAll(
			this.#fh,
			Uint8Array.of(DEAD),
			e.offset + 9 + e.frameLength - 2,
		);
		e.live = false;
		this.#values.delete(e);
	}

	async #setCommit(n: number): Promise<void> {
		const b = new Uint8Array(4);
		// The header field is an i32; mmappickle has no overflow handling, we wrap.
		new DataView(b.buffer).setInt32(0, n | 0, true);
		await writeAll(this.#fh, b, COMMIT_OFFSET);
		this.#layout = { ...this.#layout, commit: n | 0 };
	}
}

function entryAt(
	offset: number,
	key: string,
	keyLength: number,
	valueLength: number,
	memo: number,
	live: boolean,
	kind: Entry["kind"],
): Entry {
	return {
		offset,
		frameLength: 2 + keyLength + valueLength + 8,
		key,
		keyLength,
		valueOffset: offset + 11 + keyLength,
		valueLength,
		memo,
		live,
		kind,
	};
}

async function writeAll(
	fh: FileHandle,
	b: Uint8Array,
	pos: number,
): Promise<void> {
	let done = 0;
	while (done < b.length) {
		const r = await fh.write(b, done, b.length - done, pos + done);
		done += r.bytesWritten;
	}
}
