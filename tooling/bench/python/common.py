"""Shared helpers of the benchmark's Python side: layout arguments, row blocks, tensorstore specs.

The benchmark array is 2-d C-order little-endian float32, shape (rows, cols). Every tool reads
and writes it in row blocks aligned to the target's chunk (or shard) rows, so that no write is a
read-modify-write of a partial chunk.
"""

import argparse
import os
from collections import deque

import numpy as np

DTYPE = np.dtype("<f4")
# Bytes per row block when nothing else decides (the peers' working set stays near this).
BLOCK_BYTES = 16 << 20


def ints(text: str) -> tuple[int, ...]:
    """'256,1024' -> (256, 1024)."""
    return tuple(int(x) for x in text.split(",") if x)


def layout_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shape", type=ints, required=True)
    parser.add_argument("--chunks", type=ints, default=(256, 1024))
    parser.add_argument("--shards", type=ints, default=(512, 4096))


def row_blocks(rows: int, row_bytes: int, align: int, block_bytes: int = BLOCK_BYTES):
    """[start, stop) row ranges of about block_bytes, each a multiple of align rows."""
    step = max(align, (block_bytes // max(row_bytes, 1)) // align * align)
    for start in range(0, rows, step):
        yield start, min(rows, start + step)


def file_kvstore(path: str) -> dict:
    return {"driver": "file", "path": os.path.abspath(path)}


def zarr3_spec(path: str, shape, chunks, level: int = 1, shards=None) -> dict:
    """Zarr v3, zstd level `level`; with `shards`, sharding_indexed (index at the end, crc32c)."""
    inner = [
        {"name": "bytes", "configuration": {"endian": "little"}},
        {"name": "zstd", "configuration": {"level": level, "checksum": False}},
    ]
    if shards:
        codecs = [
            {
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": list(chunks),
                    "codecs": inner,
                    "index_codecs": [
                        {"name": "bytes", "configuration": {"endian": "little"}},
                        {"name": "crc32c"},
                    ],
                    "index_location": "end",
                },
            }
        ]
        grid = list(shards)
    else:
        codecs = inner
        grid = list(chunks)
    return {
        "driver": "zarr3",
        "kvstore": file_kvstore(path),
        "metadata": {
            "shape": list(shape),
            "data_type": "float32",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid}},
            "chunk_key_encoding": {"name": "default"},
            "fill_value": 0,
            "codecs": codecs,
        },
    }


def zarr2_blosc_spec(path: str, shape, chunks) -> dict:
    """Zarr v2, blosc lz4 clevel 5 with byte shuffle (numcodecs' defaults for blosc)."""
    return {
        "driver": "zarr",
        "kvstore": file_kvstore(path),
        "metadata": {
            "shape": list(shape),
            "chunks": list(chunks),
            "dtype": "<f4",
            "order": "C",
            "fill_value": 0,
            "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
            "filters": None,
            "dimension_separator": ".",
        },
    }


def ts_create(spec: dict):
    import tensorstore as ts

    return ts.open(spec, create=True, delete_existing=True).result()


def ts_write_blocks(arr, blocks, read_block, in_flight: int = 2) -> None:
    """Writes read_block(a, b) into arr[a:b] for each block, keeping in_flight writes pending so
    that reading the next block overlaps tensorstore's (multi-threaded) encoding of the last."""
    pending = deque()
    for a, b in blocks:
        pending.append(arr[a:b].write(read_block(a, b)))
        while len(pending) > in_flight:
            pending.popleft().result()
    while pending:
        pending.popleft().result()
