/**
 * The `sharding_indexed` shard layout: one `(offset, nbytes)` uint64 pair per inner chunk
 * (`2^64−1` twice for an empty slot), optionally followed by a CRC-32C, at the start or the
 * end of the shard. Every entry is checked against the shard's size before use.
 */
import { MalformedError } from "@arraystore/core";
import type { ShardPlan } from "./codec-plan.js";
import { loadKernel } from "./kernel.js";
import type { FsStore } from "./store.js";

/** One inner chunk's bytes inside a shard, or null when empty. */
export type ShardEntry = {
	readonly offset: number;
	readonly nbytes: number;
} | null;

const EMPTY = 0xffffffffffffffffn;

/** Size in bytes of the encoded index of `count` inner chunks. */
export function indexBytes(plan: ShardPlan, count: number): number {
	return count * 16 + plan.indexChain.length * 4;
}

/**
 * Decodes a shard index. `shardSize` is the shard's total size: entries pointing past it
 * (or into the index) are malformed.
 * @throws {MalformedError} a wrong size, checksum or entry.
 */
export async function decodeIndex(
	plan: ShardPlan,
	count: number,
	bytes: Uint8Array,
	shardSize: number,
): Promise<ShardEntry[]> {
	const k = plan.indexChain.length > 0 ? await loadKernel() : null;
	return decodeIndexSync(plan, count, bytes, shardSize, k?.crc32c ?? null);
}

/**
 * {@link decodeIndex} on the calling thread, with the kernel's `crc32c` (needed when the
 * index codecs end in one; null otherwise).
 * @throws {MalformedError} a wrong size, checksum or entry.
 */
export function decodeIndexSync(
	plan: ShardPlan,
	count: number,
	bytes: Uint8Array,
	shardSize: number,
	crc32c: ((bytes: Uint8Array) => number) | null,
): ShardEntry[] {
	const n = indexBytes(plan, count);
	if (bytes.length !== n)
		throw new MalformedError(
			`shard index has ${bytes.length} bytes, expected ${n}`,
		);
	const body = bytes.subarray(0, count * 16);
	if (plan.indexChain.length > 0) {
		if (!crc32c)
			throw new MalformedError("shard index checksum cannot be checked");
		const want = new DataView(
			bytes.buffer,
			bytes.byteOffset + count * 16,
			4,
		).getUint32(0, true);
		if (crc32c(body) !== want)
			throw new MalformedError(
				"shard index checksum mismatch (corrupted shard)",
			);
	}
	const le = plan.indexEndian === "little";
	const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
	const indexStart = plan.indexLocation === "start" ? 0 : shardSize - n;
	const out: ShardEntry[] = [];
	for (let i = 0; i < count; i++) {
		const off = view.getBigUint64(i * 16, le);
		const len = view.getBigUint64(i * 16 + 8, le);
		if (off === EMPTY && len === EMPTY) {
			out.push(null);
			continue;
		}
		const end = off + len;
		const inIndex = off < BigInt(indexStart + n) && end > BigInt(indexStart);
		if (end > BigInt(shardSize) || (len > 0n && inIndex)) {
			throw new MalformedError(
				`shard index entry ${i} (${off}+${len}) lies outside the shard's ${shardSize} data bytes`,
			);
		}
		out.push({ offset: Number(off), nbytes: Number(len) });
	}
	return out;
}

/** Assembles a shard from encoded inner chunks (C order of the inner grid; null = empty). */
export async function assembleShard(
	plan: ShardPlan,
	parts: readonly (Uint8Array | null)[],
): Promise<Uint8Array> {
	const count = parts.length;
	const ib = indexBytes(plan, count);
	let data = 0;
	for (const p of parts) if (p) data += p.length;
	const out = new Uint8Array(new ArrayBuffer(data + ib));
	const view = new DataView(out.buffer);
	const le = plan.indexEndian === "little";
	const indexAt = plan.indexLocation === "start" ? 0 : data;
	let at = plan.indexLocation === "start" ? ib : 0;
	parts.forEach((p, i) => {
		const e = indexAt + i * 16;
		if (!p) {
			view.setBigUint64(e, EMPTY, le);
			view.setBigUint64(e + 8, EMPTY, le);
			return;
		}
		out.set(p, at);
		view.setBigUint64(e, BigInt(at), le);
		view.setBigUint64(e + 8, BigInt(p.length), le);
		at += p.length;
	});
	if (plan.indexChain.length > 0) {
		const k = await loadKernel();
		view.setUint32(
			indexAt + count * 16,
			k.crc32c(out.subarray(indexAt, indexAt + count * 16)),
			true,
		);
	}
	return out;
}

/** A shard as read for the asynchronous path: its index, and its bytes when read whole. */
export interface LoadedShard {
	readonly size: number;
	readonly entries: readonly ShardEntry[];
	/** The whole shard when it was read at once. */
	readonly bytes: Uint8Array | null;
}

/**
 * Reads the index of the shard at `key` of `count` inner chunks — and the whole shard when
 * half or more of its inner chunks are `wanted`, or `whole` — or null when it does not exist
 * (or the array is not sharded).
 * @throws {MalformedError} a shard shorter than its index, changed while read, or a bad index.
 */
export async function loadShard(
	store: FsStore,
	plan: ShardPlan | null | undefined,
	key: string,
	count: number,
	wanted: readonly number[],
	whole: boolean,
): Promise<LoadedShard | null> {
	if (!plan) return null;
	const ib = indexBytes(plan, count);
	if (whole || wanted.length * 2 >= count) {
		const bytes = await store.get(key);
		if (!bytes) return null;
		if (bytes.length < ib)
			throw new MalformedError(`shard ${key} is shorter than its index`);
		const at = plan.indexLocation === "start" ? 0 : bytes.length - ib;
		const entries = await decodeIndex(
			plan,
			count,
			bytes.subarray(at, at + ib),
			bytes.length,
		);
		return { size: bytes.length, entries, bytes };
	}
	const size = await store.size(key);
	if (size === undefined) return null;
	if (size < ib)
		throw new MalformedError(`shard ${key} is shorter than its index`);
	const idx = await store.getRange(
		key,
		plan.indexLocation === "start" ? 0 : size - ib,
		ib,
	);
	if (!idx || idx.length !== ib)
		throw new MalformedError(`shard ${key} changed while reading`);
	return {
		size,
		entries: await decodeIndex(plan, count, idx, size),
		bytes: null,
	};
}
