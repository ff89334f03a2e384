/**
 * Mode "c" (copy-on-write) for every adapter without a native mechanism: a driver decorator
 * that keeps written tiles in memory. A write to an untouched tile first reads that tile from
 * the file; reads assemble file data and overlay tiles. The file is never written.
 */
import { gridBlocks, slabShape } from "./blocks.js";
import type { ArrayDriver, Region } from "./driver.js";
import { LimitExceededError, UnsupportedError } from "./errors.js";
import { copyElements, stridesOf } from "./layout.js";
import type { Attributes } from "./types.js";

/** Default cap of the overlay. */
export const DEFAULT_OVERLAY_BYTES: number = 256 * 1024 * 1024;

interface Tile {
	readonly region: Region;
	readonly bytes: Uint8Array;
}

/**
 * Wraps a read-only driver so writes land in a bounded in-memory overlay.
 * @throws {LimitExceededError} (from `write`) when the overlay would exceed `maxBytes`.
 */
export function cowOverlay(
	driver: ArrayDriver,
	maxBytes: number = DEFAULT_OVERLAY_BYTES,
): ArrayDriver {
	const info = driver.info;
	const itemsize = info.dtype.itemsize;
	const tileShape = info.chunks
		? [...info.chunks]
		: slabShape(info.shape, itemsize, info.order, 1024 * 1024);
	const tiles = new Map<string, Tile>();
	let used = 0;
	let attrOverlay: Attributes | undefined;

	const touching = (region: Region) => {
		const first = region.start.map((s, d) =>
			Math.floor(s / (tileShape[d] as number)),
		);
		const last = region.start.map((s, d) =>
			Math.floor(
				(s + (region.shape[d] as number) - 1) / (tileShape[d] as number),
			),
		);
		const box: Region = {
			start: first,
			shape: first.map((f, d) => (last[d] as number) - f + 1),
		};
		return gridBlocks(
			box,
			box.shape.map(() => 1),
		);
	};
	const tileRegion = (index: readonly number[]): Region => {
		const start = index.map((i, d) => i * (tileShape[d] as number));
		return {
			start,
			shape: start.map((s, d) =>
				Math.min(tileShape[d] as number, (info.shape[d] as number) - s),
			),
		};
	};
	// Copies the intersection of two boxes between their buffers (both in storage order).
	const moveIntersection = (from: Tile, to: Tile) => {
		const n = info.shape.length;
		const lo: number[] = [];
		const counts: number[] = [];
		for (let d = 0; d < n; d++) {
			const a = Math.max(
				from.region.start[d] as number,
				to.region.start[d] as number,
			);
			const b = Math.min(
				(from.region.start[d] as number) + (from.region.shape[d] as number),
				(to.region.start[d] as number) + (to.region.shape[d] as number),
			);
			if (b <= a) return;
			lo.push(a);
			counts.push(b - a);
		}
		const view = (t: Tile) => {
			const strides = stridesOf(t.region.shape, info.order);
			const base = lo.reduce(
				(acc, v, d) =>
					acc + (v - (t.region.start[d] as number)) * (strides[d] as number),
				0,
			);
			return { bytes: t.bytes, base, strides };
		};
		copyElements(view(from), view(to), counts, itemsize);
	};

	return {
		get info() {
			return driver.info;
		},
		async read(region, out, signal) {
			await driver.read(region, out, signal);
			if (tiles.size === 0) return;
			const target: Tile = { region, bytes: out };
			for (const { index } of touching(region)) {
				const tile = tiles.get(index.join(","));
				if (tile) moveIntersection(tile, target);
			}
		},
		async write(region, bytes, signal) {
			const source: Tile = { region, bytes };
			for (const { index } of touching(region)) {
				const key = index.join(",");
				let tile = tiles.get(key);
				if (!tile) {
					const r = tileRegion(index);
					const n = r.shape.reduce((a, b) => a * b, 1) * itemsize;
					if (used + n > maxBytes) {
						throw new LimitExceededError(
							`copy-on-write overlay would exceed ${maxBytes} bytes (maxOverlayBytes)`,
						);
					}
					const buf = new Uint8Array(new ArrayBuffer(n));
					await driver.read(r, buf, signal);
					tile = { region: r, bytes: buf };
					tiles.set(key, tile);
					used += n;
				}
				moveIntersection(source, tile);
			}
		},
		readStrings: driver.readStrings?.bind(driver),
		async attrs() {
			return attrOverlay ?? (driver.attrs ? await driver.attrs() : {});
		},
		async setAttrs(attrs) {
			attrOverlay = {
				...(attrOverlay ?? (driver.attrs ? await driver.attrs() : {})),
				...attrs,
			};
		},
		async resize() {
			throw new UnsupportedError(
				"resize is not available in copy-on-write mode 'c'",
			);
		},
		async flush() {},
		async close() {
			tiles.clear();
			used = 0;
			await driver.close();
		},
	};
}
