/**
 * @module @arraystore/core — the dtype model, numpy selections, the ArrayStore contract, block
 * planning, the copy-on-write overlay, typed errors, the adapter registry and the copy engine.
 * Node-only helpers (file probes, atomic writes) live in `@arraystore/core/node`.
 */

export type { GridBlock, PlanOptions } from "./blocks.js";
export {
	DEFAULT_BLOCK_BYTES,
	gridBlocks,
	gridShape,
	planBlocks,
	slabShape,
} from "./blocks.js";
export type { ContainerContext } from "./container.js";
export { checkMemberPath, createContainerStore } from "./container.js";
export { nativeToStored, storedToNative } from "./convert.js";
// --- copy engine (core/src/copy; maintained with apps/cli) ---
export type {
	BudgetInputs,
	MemoryBudget,
} from "./copy/budget.js";
export {
	BUDGET_RESERVE_BYTES,
	COPIES_PER_BLOCK,
	DEFAULT_CONCURRENCY,
	DEFAULT_MAX_MEMORY,
	formatBytes,
	GARBAGE_BLOCKS,
	memoryBudget,
	parseBytes,
	peakMemory,
} from "./copy/budget.js";
export type { CastKind } from "./copy/cast.js";
export { castData, castKind } from "./copy/cast.js";
export { copyArray } from "./copy/copy-array.js";
export type { CopyTreeOptions, TreeCopyReport } from "./copy/copy-tree.js";
export { copyTree } from "./copy/copy-tree.js";
export type { JournalStorage } from "./copy/journal.js";
export {
	CopyJournal,
	canonicalJson,
	hex,
	memoryJournalStorage,
	planHash,
} from "./copy/journal.js";
export type {
	ArrayCopyResult,
	CopyArrayOptions,
	CopyOptions,
	CopyProgress,
} from "./copy/options.js";
export type {
	ArrayCopyPlan,
	ArrayPlanInputs,
	PlanBudgetOptions,
} from "./copy/plan.js";
export {
	planArrayCopy,
	planItemsize,
	STREAM_BLOCK_BYTES,
} from "./copy/plan.js";
export type {
	ArraySelection,
	NotCarried,
	PlannedArray,
	PlannedGroup,
	TreePlan,
	TreePlanOptions,
	TreeTarget,
} from "./copy/plan-tree.js";
export {
	DEFAULT_CHUNK_BYTES,
	defaultChunks,
	linkOptions,
	normalizePath,
	planTree,
} from "./copy/plan-tree.js";
export type { VerifyOptions } from "./copy/verify.js";
export { blockDigest, blockNumber, verifyCopy } from "./copy/verify.js";
export { cowOverlay, DEFAULT_OVERLAY_BYTES } from "./cow-overlay.js";
export { checkCreate } from "./create-check.js";
export type {
	ArrayAdapter,
	ArrayDriver,
	ContainerDriver,
	DriverCreateOptions,
	DriverOpenOptions,
	DTypeSupport,
	Probe,
	Region,
} from "./driver.js";
export { decodeElement, encodeElement, NAT } from "./dtype/elements.js";
export {
	dtypeKey,
	hasListDescr,
	isBigEndian,
	numpyName,
	sameLayout,
	toDescr,
	toDictDescr,
	withByteOrder,
} from "./dtype/format.js";
export { halfToNumber, numberToHalf } from "./dtype/half.js";
export type {
	AnyDType,
	ByteOrder,
	Descr,
	DescrField,
	DType,
	Field,
	Kind,
	NumpyDictDescr,
	TimeUnit,
	VStringDType,
} from "./dtype/model.js";
export {
	isNumeric,
	isStructured,
	isVString,
	vstringDType,
} from "./dtype/model.js";
export type { CodeOf } from "./dtype/parse.js";
export {
	parseDType,
	structured,
	subarrayOf,
	TIME_UNITS,
} from "./dtype/parse.js";
export { pyDescr, pyRepr, pyStr, pyTuple } from "./dtype/py-repr.js";
export type { SwapPlan } from "./dtype/swap.js";
export { needsSwap, swapInPlace, swapPlan } from "./dtype/swap.js";
export type {
	AnyArrayData,
	AnyTypedArray,
	ArrayData,
	Scalar,
	ScalarFor,
	TypedArrayFor,
} from "./dtype/typed.js";
export {
	allocArrayData,
	bytesOf,
	MAX_ARRAY_BYTES,
	makeArrayData,
	shapeSize,
	typedCtorFor,
	typedView,
} from "./dtype/typed.js";
export type { ErrorCode, ErrorDetails } from "./errors.js";
export {
	AlreadyExistsError,
	AmbiguousFormatError,
	ArrayStoreError,
	ClosedError,
	DTypeMismatchError,
	ForbiddenGlobalError,
	fromNodeError,
	InvalidSelectionError,
	IoError,
	isArrayStoreError,
	LayoutRequiredError,
	LimitExceededError,
	MalformedError,
	NoAdapterError,
	NotFoundError,
	OutOfBoundsError,
	ReadOnlyError,
	ShapeMismatchError,
	SizeMismatchError,
	TruncatedError,
	UnsupportedCodecError,
	UnsupportedDTypeError,
	UnsupportedError,
	UnsupportedVersionError,
	wrapError,
} from "./errors.js";
export type { StridedView } from "./layout.js";
export { copyElements, stridesOf, transposeBox } from "./layout.js";
export type { ProbeReader, ProbeResult } from "./registry.js";
export { AdapterRegistry, extensionOf } from "./registry.js";
export type {
	DimSelection,
	ResolvedSelection,
	Selection,
	Slice,
} from "./selection.js";
export {
	regionSize,
	regionToSelection,
	resolveSelection,
	slice,
} from "./selection.js";
export { singleArrayContainer } from "./single-container.js";
export type { StoreContext } from "./store.js";
export { createArrayStore } from "./store.js";
export type {
	ArrayInfo,
	ArrayStore,
	Attributes,
	AttrValue,
	Block,
	Capabilities,
	CodecInfo,
	CommonOpenOptions,
	ContainerOptions,
	ContainerStore,
	CreateOptions,
	IoOptions,
	IterBlocksOptions,
	Layout,
	Mode,
	OpenExistingOptions,
	OpenOptions,
	Order,
	ReadableArrayStore,
	ReadOptions,
	TreeEntry,
} from "./types.js";
// --- end copy engine ---
