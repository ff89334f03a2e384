/**
 * `--verify`: a SHA-256 per block is computed while copying (of exactly the bytes handed to the
 * target, native byte order, C order); afterwards the target is read again block by block and
 * each digest compared. Blocks an earlier, resumed run wrote have no recorded digest: for them
 * the source block is read again (and cast) instead.
 */
import { gridShape } from "../blocks.js";
import type { DType } from "../dtype/model.js";
import { isVString } from "../dtype/model.js";
import { type ArrayData, shapeSize } from "../dtype/typed.js";
import { IoError, ShapeMismatchError } from "../errors.js";
import type { ReadableArrayStore } from "../types.js";
import { GARBAGE_BLOCKS } from "./budget.js";
import { castData } from "./cast.js";
import { hex } from "./journal.js";

/** SHA-256 (hex) of a block: its C-order bytes, or for vlen strings each string as u32le length + UTF-8. */
export async function blockDigest(data: ArrayData): Promise<string> {
	let bytes = isVString(data.dtype)
		? encodeStrings(data.data as unknown as readonly string[])
		: data.bytes;
	// WebCrypto refuses views of shared memory (the copy engine's pooled blocks).
	if (!(bytes.buffer instanceof ArrayBuffer)) bytes = bytes.slice();
	const digest = await crypto.subtle.digest("SHA-256", bytes);
	return hex(new Uint8Array(digest));
}

/** Linear (C-order) index of a block-grid coordinate. */
export function blockNumber(
	index: readonly number[],
	grid: readonly number[],
): number {
	let n = 0;
	for (let d = 0; d < grid.length; d++)
		n = n * (grid[d] as number) + (index[d] as number);
	return n;
}

/** Inputs of {@link verifyCopy}. */
export interface VerifyOptions {
	readonly blockShape: readonly number[];
	/** Digests recorded during the copy, by block number. */
	readonly expected: ReadonlyMap<number, string>;
	/** The dtype the copy cast to, if any. */
	readonly cast?: DType;
	readonly signal?: AbortSignal;
	/** Called after each verified block with its element count. */
	readonly onBlock?: (elements: number) => void;
	/** Garbage collection hook, called every {@link GARBAGE_BLOCKS} blocks (see `CopyOptions`). */
	readonly releaseMemory?: (garbageBytes: number) => void;
}

/**
 * Reads `target` again and compares every block's digest.
 * @throws {IoError} a block differs (the message names it).
 * @throws {ShapeMismatchError} the target's shape differs from the source's.
 */
export async function verifyCopy(
	source: ReadableArrayStore,
	target: ReadableArrayStore,
	options: VerifyOptions,
): Promise<number> {
	const shape = source.info.shape;
	if (
		target.info.shape.length !== shape.length ||
		target.info.shape.some((n, d) => n !== shape[d])
	) {
		throw new ShapeMismatchError(
			`verify: ${target.target} has shape [${target.info.shape.join(", ")}], the source [${shape.join(", ")}]`,
		);
	}
	const grid = gridShape(shape, options.blockShape);
	let count = 0;
	for await (const block of target.iterBlocks({
		blockShape: options.blockShape,
		signal: options.signal,
	})) {
		const n = blockNumber(block.index, grid);
		let want = options.expected.get(n);
		if (want === undefined) {
			let src = await source.read(block.selection, { signal: options.signal });
			if (options.cast) src = castData(src, options.cast);
			want = await blockDigest(src);
		}
		const got = await blockDigest(block);
		if (got !== want) {
			throw new IoError(
				`verify failed: block [${block.index.join(", ")}] (elements from [${block.offset.join(", ")}], shape [${block.shape.join(", ")}]) of ${target.target} differs from what was written`,
				{ target: target.target },
			);
		}
		count++;
		if (options.releaseMemory && count % GARBAGE_BLOCKS === 0)
			options.releaseMemory(GARBAGE_BLOCKS * block.bytes.length);
		options.onBlock?.(shapeSize(block.shape));
	}
	return count;
}

// --- internal ---

function encodeStrings(values: readonly string[]): Uint8Array {
	const enc = new TextEncoder();
	const parts = values.map((s) => enc.encode(s));
	const total = parts.reduce((a, p) => a + 4 + p.length, 0);
	const out = new Uint8Array(total);
	const view = new DataView(out.buffer);
	let at = 0;
	for (const p of parts) {
		view.setUint32(at, p.length, true);
		out.set(p, at + 4);
		at += 4 + p.length;
	}
	return out;
}
