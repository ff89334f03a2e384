/** Types of blosc-layout.mjs (plain JavaScript shared with the codec workers). */
export declare const BLOSC_HEADER: number;
export declare const DOSHUFFLE: number;
export declare const MEMCPYED: number;
export declare const DOBITSHUFFLE: number;
export declare const DONT_SPLIT: number;
export declare const MIN_BUFFERSIZE: number;
export declare const MAX_SPLITS: number;
/** Streams of one block (see blosc-layout.mjs). */
export declare function blockSplits(
	dontSplit: number | boolean,
	ts: number,
	bsize: number,
	bs: number,
): number;
