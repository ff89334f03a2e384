"""Peer for Zarr -> npy: tensorstore reads row blocks (multi-threaded decoding, two reads in
flight) into numpy.lib.format.open_memmap.

Usage: python3 peer_ts_read.py SRC.zarr DST.npy [--driver zarr3|zarr]
"""

import argparse
import os
from collections import deque

import numpy as np
import tensorstore as ts

from common import DTYPE, row_blocks


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--driver", default="zarr3")
    args = p.parse_args()
    arr = ts.open(
        {"driver": args.driver, "kvstore": {"driver": "file", "path": os.path.abspath(args.src)}},
        open=True, read=True,
    ).result()
    shape = tuple(arr.shape)
    chunk_rows = arr.chunk_layout.read_chunk.shape[0]
    out = np.lib.format.open_memmap(args.dst, "w+", DTYPE, shape)
    pending = deque()
    for a, b in row_blocks(shape[0], shape[1] * DTYPE.itemsize, chunk_rows):
        pending.append((a, b, arr[a:b].read()))
        if len(pending) > 1:
            a0, b0, fut = pending.popleft()
            out[a0:b0] = fut.result()
    while pending:
        a0, b0, fut = pending.popleft()
        out[a0:b0] = fut.result()
    out.flush()


if __name__ == "__main__":
    main()
