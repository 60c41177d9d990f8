"""Upper bounds of every integer a caller sends (issue 16): one place, one set of types.

An unbounded integer in a request reaches a database column (SQLite and PostgreSQL both stop
at 64 bits) or an arithmetic nobody meant for 10^20 and ends in a 500. Every integer input —
a query parameter or a field of a request body — therefore uses one of these types, each with
a minimum and a maximum that the OpenAPI document publishes (``minimum``/``maximum``), so
generated clients see them and an out-of-range value is a 422 with the field named.

* ``Offset`` — pagination (a page size is ``Query(ge=1, le=…)`` of its own endpoint) (offset ≤ 1,000,000: nobody
  pages further; beyond is a search, not a page).
* ``Tiyn`` (:mod:`meshkit.contracts.common`) — money: 0 ≤ tiyn ≤ ``MAX_TIYN`` (< 10^15
  tiyn, ten trillion tenge: more than any single payment of the state, within int64 and
  below 2^53, so a JavaScript client reads it exactly).
* ``RowId`` — a surrogate key a caller names (1 … 2^53 - 1).

Every maximum is below 2^53: OpenAPI documents carry numbers as JSON numbers (FastAPI writes
them as floats), and 2^63 - 1 would be published as 2^63 — one more than a BIGINT holds.
* ``Count``, ``Year``, ``ShareTerm`` — counts, calendar years and fraction terms.
* ``Instant``, ``Day`` — a timestamp or date a caller names, in the years 1900–2200 (a
  year-1 date minus 30 days is an OverflowError, not a period).

The tests (``tests/test_contract_fuzzing.py``) check that no documented operation takes an
integer without a maximum and send 2^63, 10^20 and -2^63 to every integer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

from fastapi import Query
from pydantic import AfterValidator, Field

#: the largest value of a signed 64-bit column (BIGINT, SQLite INTEGER)
INT64_MAX = 2**63 - 1
#: the largest surrogate key a caller may name (the largest integer a double holds exactly)
MAX_ROW_ID = 2**53 - 1
#: the furthest a caller may page (offset); deeper is a search, not paging
MAX_OFFSET = 1_000_000
#: the largest amount of money, in tiyn, any request may carry (< 10^15, < 2^53)
MAX_TIYN = 10**15 - 1
#: the largest count (of items, days, pages, …) a caller may ask for
MAX_COUNT = 1_000_000
#: calendar years a caller may name
MIN_YEAR, MAX_YEAR = 1900, 2200
#: numerator and denominator of a share of ownership (1/1,000,000 is the finest share)
MAX_SHARE_TERM = 1_000_000

Offset = Annotated[
    int,
    Query(ge=0, le=MAX_OFFSET, description=f"items to skip (0 … {MAX_OFFSET:,})"),
]
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]
ShareTerm = Annotated[int, Field(ge=1, le=MAX_SHARE_TERM)]


_D = TypeVar("_D", date, datetime)


def _in_sane_years(value: _D) -> _D:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


Instant = Annotated[datetime, AfterValidator(_in_sane_years)]
Day = Annotated[date, AfterValidator(_in_sane_years)]
