"""Generates the benchmark data once per run: one float32 array written in every input format.

Usage: python3 generate.py --dir D --shape R,C [--chunks 256,1024] [--shards 512,4096]
                           --formats dat,npy,h5,zarr3,zarr2,zarr3s,mmp
Prints one JSON object: the sha256 of the array's C-order little-endian bytes, and per format
the path, bytes on disk and seconds it took.

Values: a smooth field rounded to 1/4 plus small quantised noise, so that the compressed formats
compress the way measured data does (shuffle + gzip/zstd about 2x), not like zeros or noise.
"""

import argparse
import hashlib
import json
import os
import time

import numpy as np

from common import (
    DTYPE,
    layout_args,
    row_blocks,
    ts_create,
    ts_write_blocks,
    zarr2_blosc_spec,
    zarr3_spec,
)
from mmappickle_format import write_single

NAMES = {
    "dat": "data.dat",
    "npy": "data.npy",
    "h5": "data.h5",
    "zarr3": "data.v3.zarr",
    "zarr2": "data.v2.zarr",
    "zarr3s": "data.v3s.zarr",
    "mmp": "data.mmdpickle",
}


def make_block(a: int, b: int, cols: int) -> np.ndarray:
    rng = np.random.default_rng(a)  # seeded by the first row: the same data for any block size
    r = np.arange(a, b, dtype=np.float32)[:, None]
    c = np.arange(cols, dtype=np.float32)[None, :]
    field = np.sin(r * np.float32(0.0007) + c * np.float32(0.0031)) * np.float32(512)
    noise = rng.integers(-32, 32, size=(b - a, cols), dtype=np.int8).astype(np.float32)
    return (np.round(field * 4) / 4 + noise / np.float32(64)).astype(DTYPE)


def du(path: str) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--formats", default=",".join(NAMES))
    layout_args(p)
    args = p.parse_args()
    rows, cols = args.shape
    shape = (rows, cols)
    row_bytes = cols * DTYPE.itemsize
    formats = [f for f in args.formats.split(",") if f]
    paths = {f: os.path.join(args.dir, NAMES[f]) for f in NAMES}
    result = {"shape": list(shape), "dtype": DTYPE.str, "files": {}}

    # The raw file comes first; everything else is written from it.
    t = time.perf_counter()
    digest = hashlib.sha256()
    with open(paths["dat"], "wb") as f:
        for a, b in row_blocks(rows, row_bytes, 1, 64 << 20):
            block = make_block(a, b, cols)
            digest.update(block.data)
            f.write(block.data)
    result["sha256"] = digest.hexdigest()
    result["files"]["dat"] = timed(paths["dat"], t)
    # The raw adapter's sidecar (numpy.memmap stores no layout), so no layout flags are needed.
    with open(paths["dat"] + ".json", "w") as f:
        json.dump({"dtype": DTYPE.str, "shape": list(shape), "order": "C", "offset": 0}, f)
    src = np.memmap(paths["dat"], DTYPE, "r", shape=shape)

    def read(a, b):
        return np.ascontiguousarray(src[a:b])

    for fmt in formats:
        t = time.perf_counter()
        path = paths[fmt]
        if fmt == "dat":
            continue
        if fmt == "npy":
            out = np.lib.format.open_memmap(path, "w+", DTYPE, shape)
            for a, b in row_blocks(rows, row_bytes, 1, 64 << 20):
                out[a:b] = src[a:b]
            out.flush()
            del out
        elif fmt == "h5":
            import h5py

            with h5py.File(path, "w") as f:
                ds = f.create_dataset(
                    "data", shape, DTYPE, chunks=tuple(args.chunks),
                    compression="gzip", compression_opts=1, shuffle=True,
                )
                for a, b in row_blocks(rows, row_bytes, args.chunks[0]):
                    ds[a:b] = src[a:b]
        elif fmt in ("zarr3", "zarr3s", "zarr2"):
            if fmt == "zarr3":
                spec = zarr3_spec(path, shape, args.chunks)
                align = args.chunks[0]
            elif fmt == "zarr3s":
                spec = zarr3_spec(path, shape, args.chunks, shards=args.shards)
                align = args.shards[0]
            else:
                spec = zarr2_blosc_spec(path, shape, args.chunks)
                align = args.chunks[0]
            arr = ts_create(spec)
            ts_write_blocks(arr, row_blocks(rows, row_bytes, align), read)
        elif fmt == "mmp":
            def fill(f, _offset):
                for a, b in row_blocks(rows, row_bytes, 1, 64 << 20):
                    f.write(np.ascontiguousarray(src[a:b]).data)

            result["mmpDataOffset"] = write_single(path, "data", DTYPE, shape, fill)
        result["files"][fmt] = timed(path, t)
    print(json.dumps(result))


def timed(path: str, t: float) -> dict:
    return {"path": path, "bytes": du(path), "seconds": time.perf_counter() - t}


if __name__ == "__main__":
    main()
