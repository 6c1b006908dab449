"""Pages of a long list (the clinicians of a federation), so no page grows with the list.

`paginate(items, "page")` reads the page number from the query string (anything that is not
a page number gives the first page, a number past the end the last) and returns one page with
what the pager of `_pager.html` needs; the other query arguments (a search, say) are kept in
its links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import request

T = TypeVar("T")
PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int  # from 1
    pages: int
    total: int
    first: int  # 1-based position of the first item, 0 when there are none
    arg: str  # the query argument of the page number

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    def args(self, number: int) -> dict[str, str]:
        """The request's query arguments with the page number `number`."""
        kept = {k: v for k, v in request.args.items() if k != self.arg}
        return {**kept, self.arg: str(number)}


def paginate(items: Sequence[T], arg: str = "page", per_page: int = PER_PAGE) -> Page[T]:
    raw = request.args.get(arg, "1")
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
    pages = max(1, -(-len(items) // per_page))
    number = min(max(number, 1), pages)
    start = (number - 1) * per_page
    chunk = items[start : start + per_page]
    return Page(chunk, number, pages, len(items), start + 1 if chunk else 0, arg)


def matches(query: str, *fields: str) -> bool:
    """Whether every word of the search `query` is in one of the fields (case-blind)."""
    words = query.casefold().split()
    text = " ".join(fields).casefold()
    return all(w in text for w in words)
