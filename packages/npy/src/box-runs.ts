/**
 * The contiguous byte runs of a step-1 box inside a C- or F-order array, in storage order, as
 * `ByteRun`s for the deflated-member cursor. The geometry is raw's (`checkRegion`,
 * `regionRuns`): one implementation of box runs for every flat byte layout.
 */
import type { Order, Region } from "@arraystore/core";
import { checkRegion, regionRuns } from "@arraystore/raw";
import type { ByteRun } from "./zip/inflate-cursor.js";

/**
 * Checks `region` against `shape` and `bytes` (its byte length), then yields its runs.
 * @throws {InvalidSelectionError} the box leaves the array.
 * @throws {ShapeMismatchError} `bytes` is not the box's size.
 */
export function boxRuns(
	shape: readonly number[],
	order: Order,
	itemsize: number,
	base: number,
	region: Region,
	bytes: number,
): Iterable<ByteRun> {
	checkRegion(shape, itemsize, region, bytes, "npz member");
	const cursor = regionRuns(shape, order, itemsize, base, region);
	return {
		*[Symbol.iterator]() {
			while (cursor.next()) {
				yield {
					position: cursor.fileOffset,
					length: cursor.runLength,
					outOffset: cursor.bufOffset,
				};
			}
		},
	};
}
