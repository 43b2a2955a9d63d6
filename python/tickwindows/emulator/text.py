"""JSON text of many rows at once: numpy byte matrices instead of a string per value.

A row is a list of pieces: literals, integers (decimal digits), small tables of strings (a price's
fraction, optional flags) and optional groups written only where present. Every row of a page has
the same pieces, but their widths vary, so each row's bytes go to their own offsets:

- the pieces are cut into chunks, each a variable-width piece followed by the fixed-width pieces up
  to the next variable one (an integer whose width is the same in every row counts as fixed). A
  chunk is an (n x width) byte matrix: literals filled in once (the matrices are kept per thread
  and reused), digits written from a table of 4-digit groups, the variable piece right-aligned;
  one numpy assignment scatters its rows to their offsets in the output;
- right alignment leaves don't-care bytes before a variable piece that is narrower than its column:
  chunks are written last to first, so the chunk before (written later) covers them, and pieces
  written exactly (a row's leading table string, optional groups, fixed-only chunks) come last;
- rows go in blocks of BLOCK, so a block's matrices and output stay in the CPU caches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
U8 = NDArray[np.uint8]
BOOL = NDArray[np.bool_]

BLOCK = 8192  # rows rendered at a time

# "0000".."9999" and "00".."99" as little-endian uint32 / uint16 (ASCII digits)
_DIGITS4 = np.frombuffer(b"".join(b"%04d" % i for i in range(10000)), dtype="<u4").copy()
_DIGITS2 = np.frombuffer(b"".join(b"%02d" % i for i in range(100)), dtype="<u2").copy()
_POW10 = np.array([10**i for i in range(19)], dtype=np.int64)


_COUNT4 = np.array([len(str(i)) for i in range(10000)], dtype=np.int64)


def digit_count(values: I64) -> I64:
    """Decimal digits of each non-negative value (0 has one)."""
    if len(values) and int(values.max()) < 10000:
        small: I64 = _COUNT4[values]
        return small
    out: I64 = np.searchsorted(_POW10, values, side="right").astype(np.int64)
    np.maximum(out, 1, out=out)
    return out


def _view(mat: U8, col: int, dtype: str) -> NDArray[np.generic]:
    """Column `col` (and the next ones, as one `dtype` value) of every row of mat."""
    n, stride = mat.shape
    return np.ndarray((n,), dtype=dtype, buffer=mat, offset=col, strides=(stride,))


def _put_digits(mat: U8, col: int, width: int, values: I64) -> None:
    """Write values as exactly `width` zero-padded digits in columns [col, col + width) of every row."""
    x = values
    end = col + width
    full, part = divmod(width, 4)
    for g in range(full):
        if g < full - 1 or part:
            x, low = np.divmod(x, 10000)
        else:
            low = x
        _view(mat, end - 4 * (g + 1), "<u4")[...] = _DIGITS4[low]
    if part == 1:
        _view(mat, col, "u1")[...] = x + 48
    elif part == 2:
        _view(mat, col, "<u2")[...] = _DIGITS2[x]
    elif part == 3:
        high, low = np.divmod(x, 10)
        _view(mat, col, "<u2")[...] = _DIGITS2[high]
        _view(mat, col + 2, "u1")[...] = low + 48


@dataclass
class _Piece:
    kind: str  # lit | fix | num | tab | exact | group
    lit: bytes = b""
    values: I64 | None = None  # fix, num: the integers; tab, exact: row codes
    width: int = 0  # fix: digits; num: column width (multiple of 4); tab, exact: column width
    table: U8 | None = None  # tab, exact: strings right-aligned (left padding don't-care)
    lens: I64 | None = None  # tab, exact: length of each code's string
    mask: BOOL | None = None  # group: rows that have it
    parts: list[_Piece] = field(default_factory=list)  # group: its pieces (lit and fix only)

    def fixed_width(self) -> int:
        return len(self.lit) if self.kind == "lit" else self.width

    def key(self) -> tuple[object, ...]:
        if self.kind == "lit":
            return ("lit", self.lit)
        if self.kind == "group":
            return ("group", tuple(p.key() for p in self.parts))
        return (self.kind, self.width, id(self.table))

    def sliced(self, rows: slice | I64) -> _Piece:
        """This piece for some rows only."""
        return _Piece(self.kind, self.lit, None if self.values is None else self.values[rows], self.width, self.table,
                      self.lens, None if self.mask is None else self.mask[rows], [p.sliced(rows) for p in self.parts])


class _Work(threading.local):
    """Per-thread chunk matrices (literals filled in) and output buffer, reused across pages."""

    LAYOUTS = 128  # chunk layouts kept (they differ by field widths: ~70 over the 80 bench windows)

    def __init__(self) -> None:
        self.mats: OrderedDict[tuple[int, bytes], U8] = OrderedDict()
        self.out: U8 = np.zeros(1 << 20, dtype=np.uint8)

    def matrix(self, lead: int, tail: list[_Piece], n: int) -> tuple[U8, list[int]]:
        """An (n x width) matrix: `lead` don't-care columns, then the tail's literals (digits left to fill)."""
        cols, c, row = [], lead, bytearray(b" " * lead)
        for p in tail:
            cols.append(c)
            row += p.lit if p.kind == "lit" else b"0" * p.width
            c += p.fixed_width()
        key = (lead, bytes(row))
        mat = self.mats.get(key)
        if mat is None or len(mat) < n:
            mat = np.empty((min(BLOCK, max(n, 2 * (0 if mat is None else len(mat)), 256)), len(row)), dtype=np.uint8)
            mat[...] = np.frombuffer(bytes(row), dtype=np.uint8)
            self.mats[key] = mat
            if len(self.mats) > self.LAYOUTS:
                self.mats.popitem(last=False)
        self.mats.move_to_end(key)
        return mat[:n], cols

    def output(self, size: int) -> U8:
        if len(self.out) < size:
            self.out = np.zeros(max(size, 2 * len(self.out)), dtype=np.uint8)
        return self.out


_WORK = _Work()


def scratch(size: int) -> U8:
    """This thread's output buffer, at least `size` bytes (and 16 spare); reused by the next render."""
    return _WORK.output(size + 16)


class Rows:
    """Pieces of n rows, rendered into bytes (rows back to back)."""

    def __init__(self, n: int):
        self.n = n
        self.pieces: list[_Piece] = []
        self._layout: tuple[int, list[tuple[int, int]], I64, list[I64 | int], list[I64 | int]] | None = None

    def lit(self, text: bytes) -> None:
        if self.pieces and self.pieces[-1].kind == "lit":
            self.pieces[-1].lit += text
        else:
            self.pieces.append(_Piece("lit", lit=text))

    def fix(self, values: I64, width: int) -> None:
        """Integers of exactly `width` digits."""
        self.pieces.append(_Piece("fix", values=values, width=width))

    def num(self, values: I64) -> None:
        """Non-negative integers, as many digits as each needs (a fixed width when all agree)."""
        if self.n == 0:
            self.pieces.append(_Piece("fix", values=values, width=1))
            return
        wide = len(str(int(values.max())))
        if len(str(int(values.min()))) == wide:
            self.fix(values, wide)
        else:
            self.pieces.append(_Piece("num", values=values, width=4 * -(-wide // 4)))

    def tab(self, codes: I64, table: U8, lens: I64, *, exact: bool = False) -> None:
        """One of a few strings per row (a table from `strings_table`), by code."""
        self.pieces.append(_Piece("exact" if exact else "tab", values=codes, width=table.shape[1], table=table,
                                  lens=lens))

    def group(self, mask: BOOL, build: Rows) -> None:
        """Fixed-width pieces (`build`'s, for all n rows) present only in the rows where mask."""
        assert all(p.kind in ("lit", "fix") for p in build.pieces)
        self.pieces.append(_Piece("group", mask=mask, parts=build.pieces))

    # ---------------------------------------------------------------- rendering

    def render(self) -> bytes:
        """The rows' bytes."""
        out = scratch(self.size())
        return out[: self.render_into(out, 0)].tobytes()

    def size(self) -> int:
        """Bytes of all rows (and the layout render_into uses, computed once)."""
        if self._layout is None:
            self._layout = self._plan()
        return self._layout[0]

    def _plan(self) -> tuple[int, list[tuple[int, int]], I64, list[I64 | int], list[I64 | int]]:
        """(total bytes, chunks, row starts, each chunk's offset in its row, each chunk head's length)."""
        n = self.n
        if n == 0:
            return 0, [], np.zeros(0, dtype=np.int64), [], []
        # chunks: a variable piece (or a fixed-only run) and the fixed pieces after it
        chunks: list[tuple[int, int]] = []
        i = 0
        while i < len(self.pieces):
            j = i + 1
            while j < len(self.pieces) and self.pieces[j].kind in ("lit", "fix"):
                j += 1
            chunks.append((i, j))
            i = j
        # each row's length, and where each chunk starts in it
        fixed = 0
        row_len = np.zeros(n, dtype=np.int64)
        head_at: list[I64 | int] = []  # offset of each chunk in its row
        lengths: list[I64 | int] = []  # length of each chunk's head piece
        for first, end in chunks:
            head_at.append(row_len + fixed if len(head_at) else 0)
            ln = self._length(self.pieces[first])
            lengths.append(ln)
            if isinstance(ln, int):
                fixed += ln
            else:
                row_len += ln
            fixed += sum(p.fixed_width() for p in self.pieces[first + 1: end])
        row_len += fixed
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(row_len[:-1], out=starts[1:])
        return int(starts[-1] + row_len[-1]), chunks, starts, head_at, lengths

    def render_into(self, out: U8, at: int) -> int:
        """Write the rows into out[at:] (at least size() bytes, and 16 spare); returns where they end."""
        total, chunks, starts, head_at, lengths = self._layout or self._plan()
        starts = starts + at
        for lo in range(0, self.n, BLOCK):
            rows = slice(lo, min(self.n, lo + BLOCK))
            self._block(out, rows, chunks, [starts[rows] + (h if isinstance(h, int) else h[rows]) for h in head_at],
                        [ln if isinstance(ln, int) else ln[rows] for ln in lengths])
        return at + total

    @staticmethod
    def _length(p: _Piece) -> I64 | int:
        if p.kind in ("lit", "fix"):
            return p.fixed_width()
        if p.kind == "num":
            assert p.values is not None
            return digit_count(p.values)
        if p.kind in ("tab", "exact"):
            assert p.lens is not None and p.values is not None
            out: I64 = p.lens[p.values]
            return out
        assert p.mask is not None
        return p.mask.astype(np.int64) * sum(q.fixed_width() for q in p.parts)

    def _block(self, out: U8, rows: slice, chunks: list[tuple[int, int]], at: list[I64], lengths: list[I64 | int]
               ) -> None:
        pieces = [p.sliced(rows) for p in self.pieces]
        late = []
        for c in range(len(chunks) - 1, -1, -1):
            first, end = chunks[c]
            head = pieces[first]
            if head.kind in ("num", "tab"):  # right-aligned, don't-care bytes before: covered later
                mat, cols = _WORK.matrix(head.width, pieces[first + 1: end], len(at[c]))
                if head.kind == "num":
                    assert head.values is not None
                    _put_digits(mat, 0, head.width, head.values)
                else:
                    assert head.table is not None and head.values is not None
                    mat[:, : head.width] = head.table[head.values]
                _fill(mat, pieces[first + 1: end], cols)
                _scatter(out, at[c] + lengths[c] - head.width, mat)
            else:
                late.append(c)
        for c in late:
            first, end = chunks[c]
            head = pieces[first]
            if head.kind == "exact":
                assert head.table is not None and head.values is not None and head.lens is not None
                order = np.argsort(head.values.astype(np.uint8), kind="stable")  # rows grouped by string
                bounds = np.cumsum(np.bincount(head.values, minlength=len(head.table))).tolist()
                lo = 0
                for code, hi in enumerate(bounds):
                    if hi > lo:
                        take = order[lo:hi]
                        text = bytes(head.table[code, head.width - int(head.lens[code]):])
                        tail = [p.sliced(take) for p in pieces[first + 1: end]]
                        _exact(out, at[c][take], [_Piece("lit", lit=text), *tail])
                    lo = hi
            elif head.kind == "group":
                assert head.mask is not None
                take = np.flatnonzero(head.mask)
                if len(take):
                    _exact(out, at[c][take], [p.sliced(take) for p in head.parts])
                if end > first + 1:
                    _exact(out, at[c] + lengths[c], pieces[first + 1: end])
            else:
                _exact(out, at[c], pieces[first:end])


def _fill(mat: U8, pieces: list[_Piece], cols: list[int]) -> None:
    for p, c in zip(pieces, cols, strict=True):
        if p.kind == "fix":
            assert p.values is not None
            _put_digits(mat, c, p.width, p.values)


def _exact(out: U8, at: I64, pieces: list[_Piece]) -> None:
    """Fixed-width pieces written exactly at `at`, one row each."""
    mat, cols = _WORK.matrix(0, pieces, len(at))
    _fill(mat, pieces, cols)
    _scatter(out, at, mat)


def _scatter(out: U8, at: I64, mat: U8) -> None:
    """out[at[i]: at[i] + width] = mat[i] for every row i."""
    n, width = mat.shape
    if width == 0 or n == 0:
        return
    view = np.ndarray((len(out) - width + 1,), dtype=f"V{width}", buffer=out, strides=(1,))
    view[at] = mat.view(f"V{width}")[:, 0]


def strings_table(strings: list[bytes]) -> tuple[U8, I64]:
    """(strings right-aligned in one width, their lengths) for Rows.tab."""
    width = max(1, *(len(s) for s in strings))
    table = np.full((len(strings), width), ord(" "), dtype=np.uint8)
    for i, s in enumerate(strings):
        if s:
            table[i, width - len(s):] = np.frombuffer(s, dtype=np.uint8)
    return table, np.array([len(s) for s in strings], dtype=np.int64)
