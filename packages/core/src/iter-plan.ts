/**
 * Which region `iterBlocks` walks and with which block shape.
 */
import { planBlocks, slabShape } from "./blocks.js";
import type { Region } from "./driver.js";
import { InvalidSelectionError } from "./errors.js";
import { resolveSelection } from "./selection.js";
import type { ArrayInfo, IterBlocksOptions } from "./types.js";

// vlen strings have no itemsize; plan their blocks with a typical string size.
const VLEN_ESTIMATE = 32;

/** The region and block shape of one `iterBlocks` call. */
export function planIterBlocks(
	info: ArrayInfo,
	options: IterBlocksOptions,
): { region: Region; blockShape: number[] } {
	let region: Region = {
		start: info.shape.map(() => 0),
		shape: [...info.shape],
	};
	if (options.selection) {
		const sel = resolveSelection(info.shape, options.selection);
		if (!sel.dims.every((d) => d.step === 1 || d.count <= 1)) {
			throw new InvalidSelectionError(
				"iterBlocks takes step-1 slices and integers only",
			);
		}
		region = sel.box;
	}
	const itemsize = info.dtype.itemsize || VLEN_ESTIMATE;
	let blockShape: number[];
	if (options.blockShape) {
		if (
			options.blockShape.length !== info.shape.length ||
			!options.blockShape.every((b) => Number.isSafeInteger(b) && b > 0)
		) {
			throw new InvalidSelectionError(
				`blockShape needs ${info.shape.length} positive integers`,
			);
		}
		blockShape = [...options.blockShape];
	} else if (options.maxBlockBytes !== undefined) {
		blockShape = info.chunks
			? planBlocks(region.shape, itemsize, {
					sourceChunks: info.chunks,
					maxBlockBytes: Math.max(itemsize, options.maxBlockBytes),
					order: info.order,
				})
			: slabShape(region.shape, itemsize, info.order, options.maxBlockBytes);
	} else {
		blockShape = [...info.blockShape];
	}
	return { region, blockShape };
}
