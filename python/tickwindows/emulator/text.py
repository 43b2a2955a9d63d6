"""JSON text of many rows at once: numpy byte matrices instead of a string per value.

A row is a list of pieces: literals, integers (decimal digits), fixed-width integers (timestamps),
small tables of strings (a price's fraction, optional flags) and optional groups written only where
present. Every row of a page has the same pieces, but their widths vary, so each row's bytes go to
their own offsets:

- the pieces are cut into chunks, each a variable-width piece followed by the fixed-width pieces up
  to the next variable one. A chunk is built for all rows as an (n x width) byte matrix (literals
  copied from a template, digits from a table of 4-digit groups) with its variable piece right
  aligned, then scattered to the rows' offsets in one numpy assignment;
- right alignment leaves don't-care bytes before a variable piece that is narrower than its column:
  chunks are written last to first, so the chunk before (written later) covers them, and pieces
  written exactly (no don't-care bytes: a row's leading table string, optional groups) come last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
U8 = NDArray[np.uint8]
BOOL = NDArray[np.bool_]

# "0000".."9999" as little-endian uint32 (4 ASCII digits)
_DIGITS4 = np.frombuffer(b"".join(b"%04d" % i for i in range(10000)), dtype="<u4").copy()
_POW10 = np.array([10**i for i in range(19)], dtype=np.int64)


def digit_count(values: I64) -> I64:
    """Decimal digits of each non-negative value (0 has one)."""
    out: I64 = np.searchsorted(_POW10, values, side="right").astype(np.int64)
    np.maximum(out, 1, out=out)
    return out


def _put_digits(mat: U8, col: int, width: int, values: I64) -> None:
    """Write values as `width` zero-padded digits ending at column col + width of every row of mat.

    Groups of 4 digits are written as uint32, right to left; a partial top group spills into the
    columns before `col`, so callers restore those (or leave them don't-care)."""
    n, stride = mat.shape
    x = values
    end = col + width
    groups = -(-width // 4)
    for g in range(groups):
        at = end - 4 * (g + 1)
        view: NDArray[np.uint32] = np.ndarray((n,), dtype="<u4", buffer=mat, offset=at, strides=(stride,))
        if g == groups - 1:
            view[...] = _DIGITS4[x % 10000]
        else:
            x, low = np.divmod(x, 10000)
            view[...] = _DIGITS4[low]


def _table(strings: list[bytes], width: int) -> U8:
    """Strings right-aligned in `width` bytes (left padding is don't-care)."""
    out = np.full((len(strings), width), ord(" "), dtype=np.uint8)
    for i, s in enumerate(strings):
        if s:
            out[i, width - len(s):] = np.frombuffer(s, dtype=np.uint8)
    return out


@dataclass
class _Piece:
    kind: str  # lit | fix | num | tab | exact | group
    lit: bytes = b""
    values: I64 | None = None  # fix, num: the integers; tab, exact: row codes
    width: int = 0  # fix: digits; num: column width (multiple of 4); tab, exact: column width
    table: U8 | None = None  # tab, exact: strings right-aligned
    lens: I64 | None = None  # tab, exact: length of each code's string
    mask: BOOL | None = None  # group: rows that have it
    parts: list[_Piece] = field(default_factory=list)  # group: its (fixed) pieces

    def length(self, n: int) -> I64 | int:
        if self.kind == "lit":
            return len(self.lit)
        if self.kind == "fix":
            return self.width
        if self.kind == "num":
            assert self.values is not None
            return digit_count(self.values)
        if self.kind in ("tab", "exact"):
            assert self.lens is not None and self.values is not None
            out: I64 = self.lens[self.values]
            return out
        assert self.mask is not None
        return self.mask.astype(np.int64) * sum(p.fixed_width() for p in self.parts)

    def fixed_width(self) -> int:
        return len(self.lit) if self.kind == "lit" else self.width


class Rows:
    """Pieces of n rows, rendered into one byte buffer (rows back to back)."""

    def __init__(self, n: int):
        self.n = n
        self.pieces: list[_Piece] = []

    def lit(self, text: bytes) -> None:
        if self.pieces and self.pieces[-1].kind == "lit":
            self.pieces[-1].lit += text
        else:
            self.pieces.append(_Piece("lit", lit=text))

    def fix(self, values: I64, width: int) -> None:
        """Integers of exactly `width` digits."""
        self.pieces.append(_Piece("fix", values=values, width=width))

    def num(self, values: I64) -> None:
        """Non-negative integers, as many digits as each needs (one width when all agree)."""
        if self.n == 0:
            return
        lo, hi = int(values.min()), int(values.max())
        wide = len(str(hi))
        if len(str(lo)) == wide:
            self.fix(values, wide)
        else:
            self.pieces.append(_Piece("num", values=values, width=4 * -(-wide // 4)))

    def tab(self, codes: I64, table: U8, lens: I64, *, exact: bool = False) -> None:
        """One of a few strings per row (table from `strings_table`), by code."""
        self.pieces.append(_Piece("exact" if exact else "tab", values=codes, width=table.shape[1], table=table,
                                  lens=lens))

    def group(self, mask: BOOL, build: Rows) -> None:
        """Fixed-width pieces (`build`'s, of the rows where mask) present only where mask."""
        assert all(p.kind in ("lit", "fix") for p in build.pieces)
        self.pieces.append(_Piece("group", mask=mask, parts=build.pieces))

    # ---------------------------------------------------------------- rendering

    def render(self) -> U8:
        n = self.n
        if n == 0:
            return np.zeros(0, dtype=np.uint8)
        lengths = [p.length(n) for p in self.pieces]
        row_len = np.zeros(n, dtype=np.int64)
        for ln in lengths:
            row_len += ln
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(row_len[:-1], out=starts[1:])
        total = int(starts[-1] + row_len[-1])
        out = np.empty(total + 8, dtype=np.uint8)
        # offsets of each piece in out
        offsets: list[I64] = []
        at = starts.copy()
        for ln in lengths:
            offsets.append(at)
            at = at + ln
        # chunks: a variable piece (or the row start) and the fixed pieces after it
        chunks: list[tuple[int, int]] = []  # (first piece, end piece)
        i = 0
        while i < len(self.pieces):
            j = i + 1
            while j < len(self.pieces) and self.pieces[j].kind in ("lit", "fix"):
                j += 1
            chunks.append((i, j))
            i = j
        late: list[tuple[int, int]] = []
        for first, end in reversed(chunks):
            head = self.pieces[first]
            if head.kind in ("num", "tab"):
                self._var_chunk(out, offsets, lengths, first, end)
            else:
                late.append((first, end))
        for first, end in late:
            head = self.pieces[first]
            if head.kind == "exact":
                self._exact_chunk(out, offsets, first, end)
            elif head.kind == "group":
                assert head.mask is not None
                rows = np.flatnonzero(head.mask)
                if len(rows):
                    self._fixed(out, offsets[first][rows], head.parts, rows)
                if end > first + 1:
                    self._fixed(out, offsets[first + 1], self.pieces[first + 1: end], None)
            else:
                self._fixed(out, offsets[first], self.pieces[first:end], None)
        return out[:total]

    @staticmethod
    def _template(n: int, pieces: list[_Piece], lead: int) -> tuple[U8, list[int]]:
        """A matrix of n rows: `lead` don't-care columns, then the pieces (literals filled in);
        returns it and each piece's column."""
        cols, c = [], lead
        row = bytearray(b" " * lead)
        for p in pieces:
            cols.append(c)
            row += p.lit if p.kind == "lit" else b"0" * p.width
            c += p.fixed_width()
        mat = np.empty((n, len(row)), dtype=np.uint8)
        mat[...] = np.frombuffer(bytes(row), dtype=np.uint8)
        return mat, cols

    def _fill(self, mat: U8, pieces: list[_Piece], cols: list[int], rows: I64 | None) -> None:
        for p, c in zip(pieces, cols, strict=True):
            if p.kind == "fix":
                assert p.values is not None
                values = p.values if rows is None else p.values[rows]
                keep = mat[:, c - 3: c].copy() if c >= 3 and p.width % 4 else None
                _put_digits(mat, c, p.width, values)
                if keep is not None:  # the top group spilled into the columns before
                    spill = 4 - p.width % 4
                    mat[:, c - spill: c] = keep[:, 3 - spill:]

    def _fixed(self, out: U8, at: I64, pieces: list[_Piece], rows: I64 | None) -> None:
        """Fixed-width pieces written exactly at `at` (one per row, or per row in `rows`)."""
        mat, cols = self._template(len(at), pieces, 3)
        self._fill(mat, pieces, cols, rows)
        width = mat.shape[1] - 3
        self._scatter(out, at, mat[:, 3:], width)

    def _var_chunk(self, out: U8, offsets: list[I64], lengths: list[I64 | int], first: int, end: int) -> None:
        head = self.pieces[first]
        tail = self.pieces[first + 1: end]
        mat, cols = self._template(self.n, tail, head.width)
        if head.kind == "num":
            assert head.values is not None
            _put_digits(mat, 0, head.width, head.values)
        else:
            assert head.table is not None and head.values is not None
            mat[:, : head.width] = head.table[head.values]
        self._fill(mat, tail, cols, None)
        at = offsets[first] + lengths[first] - head.width
        self._scatter(out, at, mat, mat.shape[1])

    def _exact_chunk(self, out: U8, offsets: list[I64], first: int, end: int) -> None:
        """A table piece written exactly (no don't-care bytes), one scatter per string, and its tail."""
        head = self.pieces[first]
        assert head.table is not None and head.values is not None and head.lens is not None
        tail = self.pieces[first + 1: end]
        order = np.argsort(head.values.astype(np.uint8), kind="stable")  # rows grouped by string
        bounds = np.cumsum(np.bincount(head.values, minlength=len(head.table)))
        lo = 0
        for code, hi in enumerate(bounds.tolist()):
            if hi > lo:
                rows = order[lo:hi]
                text = bytes(head.table[code, head.width - int(head.lens[code]):])
                self._fixed(out, offsets[first][rows], [_Piece("lit", lit=text), *tail], rows)
            lo = hi

    @staticmethod
    def _scatter(out: U8, at: I64, mat: U8, width: int) -> None:
        """out[at[i]: at[i] + width] = mat[i] for every row i (mat rows contiguous)."""
        if width == 0 or len(at) == 0:
            return
        mat = np.ascontiguousarray(mat)
        view = np.ndarray((len(out) - width + 1,), dtype=f"V{width}", buffer=out, strides=(1,))
        view[at] = mat.view(f"V{width}")[:, 0]


def strings_table(strings: list[bytes]) -> tuple[U8, I64]:
    """(right-aligned table, lengths) for Rows.tab."""
    width = max(1, max(len(s) for s in strings))
    return _table(strings, width), np.array([len(s) for s in strings], dtype=np.int64)
