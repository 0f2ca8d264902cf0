"""The sorted OID table: GET, GETNEXT by bisection, rebuilds when rows change."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.snmp import mib
from firmware.snmp.mib import (
    NO_SUCH_INSTANCE,
    NO_SUCH_OBJECT,
    Column,
    Entry,
    MibTable,
    scalar,
    table,
)


class Static:
    """A module whose entries are given; ``rows`` may change between requests."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.items = list(entries)

    def layout(self) -> Hashable:
        return tuple(e.oid for e in self.items)

    def entries(self) -> Iterable[Entry]:
        return self.items


def const(value: int) -> mib.Getter:
    return lambda: mib.integer(value)


def test_lexicographic_order_across_lengths() -> None:
    module = Static([scalar((1, 3, 6, 1, 10), const(3)), scalar((1, 3, 6, 1, 2, 1), const(2)),
                     scalar((1, 3, 6, 1, 2), const(1))])
    t = MibTable([module])
    t.refresh()
    assert t.oids() == [(1, 3, 6, 1, 2, 0), (1, 3, 6, 1, 2, 1, 0), (1, 3, 6, 1, 10, 0)]


def test_next_is_the_strict_successor_and_ends() -> None:
    t = MibTable([Static([scalar((1, 3, 6, 1, 5), const(5)), scalar((1, 3, 6, 1, 7), const(7))])])
    t.refresh()
    assert t.next((0,)) == ((1, 3, 6, 1, 5, 0), 5)
    assert t.next((1, 3, 6, 1, 5, 0)) == ((1, 3, 6, 1, 7, 0), 7)
    assert t.next((1, 3, 6, 1, 5, 0, 0)) == ((1, 3, 6, 1, 7, 0), 7)
    assert t.next((1, 3, 6, 1, 7, 0)) is None


def test_get_distinguishes_missing_object_from_missing_instance() -> None:
    columns = [Column(2, "b", lambda r: mib.integer(r)), Column(3, "c", lambda r: mib.integer(-r))]
    t = MibTable([Static(table((1, 3, 6, 1, 9, 1), columns, [((1,), 10), ((4,), 40)]))])
    t.refresh()
    assert t.get((1, 3, 6, 1, 9, 1, 3, 4)) == -40
    assert t.get((1, 3, 6, 1, 9, 1, 3, 2)) is NO_SUCH_INSTANCE
    assert t.get((1, 3, 6, 1, 9, 1, 4, 1)) is NO_SUCH_OBJECT
    assert t.get((1, 3, 6, 1, 9)) is NO_SUCH_OBJECT
    # Columns come out column by column, rows in index order (RFC 3416 §4.2.2).
    assert t.oids() == [(1, 3, 6, 1, 9, 1, 2, 1), (1, 3, 6, 1, 9, 1, 2, 4),
                        (1, 3, 6, 1, 9, 1, 3, 1), (1, 3, 6, 1, 9, 1, 3, 4)]


def test_rows_that_vanish_are_skipped_and_getter_errors_do_not_stop_a_walk(
        caplog: pytest.LogCaptureFixture) -> None:
    rows: list[int] = [1]

    def gone() -> mib.Value:
        return mib.integer(rows[5])  # IndexError: a LookupError

    def broken() -> mib.Value:
        raise RuntimeError("bug")

    t = MibTable([Static([scalar((1, 3, 1), gone), scalar((1, 3, 2), broken),
                          scalar((1, 3, 3), const(3))])])
    t.refresh()
    assert t.next((1,)) == ((1, 3, 3, 0), 3)
    assert t.get((1, 3, 1, 0)) is NO_SUCH_INSTANCE
    assert "1.3.2.0 failed" in caplog.text


def test_accept_filters_the_view() -> None:
    t = MibTable([Static([scalar((1, 3, n), const(n)) for n in range(1, 5)])])
    t.refresh()
    found = t.next((1, 3), accept=lambda oid, value: int(value) % 2 == 0)
    assert found == ((1, 3, 2, 0), 2)


def test_rebuilds_only_when_layout_changes() -> None:
    module = Static([scalar((1, 3, 1), const(1))])
    t = MibTable([module])
    t.refresh()
    t.refresh()
    assert t.rebuilds == 1
    module.items.append(scalar((1, 3, 2), const(2)))
    t.refresh()
    assert t.rebuilds == 2 and len(t) == 2


def test_duplicate_oids_are_refused() -> None:
    t = MibTable([Static([scalar((1, 3, 1), const(1)), scalar((1, 3, 1), const(2))])])
    with pytest.raises(ValueError, match="registered twice"):
        t.refresh()


def test_value_constructors_clamp_and_wrap() -> None:
    assert int(mib.counter(2**32 + 5)) == 5
    assert int(mib.gauge(2**40)) == 2**32 - 1
    assert int(mib.gauge(-3)) == 0
    assert int(mib.integer(2**40)) == 2**31 - 1
    assert int(mib.ticks(2**32 + 1)) == 1
    assert bytes(mib.octets("é" * 200, 255)) == ("é" * 200).encode()[:255]
    assert int(mib.truth(True)) == 1 and int(mib.truth(False)) == 2


oid_strategy = st.lists(st.integers(0, 6), min_size=1, max_size=5).map(tuple)


@given(st.sets(oid_strategy, min_size=1, max_size=40), oid_strategy)
def test_next_matches_a_linear_scan(objects: set[tuple[int, ...]], query: tuple[int, ...]) -> None:
    # Object OIDs must not be prefixes of one another (leaves of the OID tree).
    leaves = {o for o in objects if not any(p != o and o[: len(p)] == p for p in objects)}
    t = MibTable([Static([Entry(o, (0,), const(1)) for o in leaves])])
    t.refresh()
    expected = min(((*o, 0) for o in leaves if (*o, 0) > query), default=None)
    found = t.next(query)
    assert (found[0] if found else None) == expected
