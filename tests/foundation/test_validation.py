"""Validation errors name the entity, the record's key and the field."""

from __future__ import annotations

import pytest

from workbench.domain.models import Item
from workbench.domain.uom import UomConverter, UomError
from workbench.domain.validation import RecordErrors, validate_batch, validate_record


def _one_error(entity: str, data: dict) -> object:
    with pytest.raises(RecordErrors) as info:
        validate_record(entity, data)
    assert len(info.value.errors) == 1
    return info.value.errors[0]


def test_negative_quantity_names_entity_key_and_field() -> None:
    err = _one_error("inventory", {"item": "BOLT", "site": "P1", "quantity": -3})
    assert (err.entity, err.key, err.field) == ("inventory", "BOLT/P1/?/?/?/?", "quantity")
    assert "greater than or equal to 0" in err.reason
    assert str(err).startswith("inventory 'BOLT/P1/?/?/?/?', field quantity:")


def test_effective_to_before_effective_from() -> None:
    err = _one_error(
        "bom_revisions",
        {"parent": "BIKE", "revision": "B", "effective_from": "2026-05-01", "effective_to": "2026-04-30"},
    )
    assert (err.entity, err.key) == ("bom_revisions", "BIKE/B")
    assert "effective_to 2026-04-30 is before effective_from 2026-05-01" in err.reason


def test_bom_line_referencing_its_own_parent() -> None:
    err = _one_error(
        "bom_lines",
        {"parent": "BIKE", "revision": "A", "position": 10, "component": "BIKE", "quantity_per": 1},
    )
    assert err.key == "BIKE/A/10"
    assert "component BIKE is the BOM's own parent item" in err.reason


def test_unknown_status_lists_the_allowed_values() -> None:
    err = _one_error("requisitions", {"code": "RQ1", "item": "BOLT", "site": "P1", "quantity": 5,
                                      "need_date": "2026-12-01", "status": "pending"})
    assert (err.key, err.field) == ("RQ1", "status")
    assert "unknown value 'pending'" in err.reason
    assert "'open'" in err.reason and "'cancelled'" in err.reason


def test_batch_keeps_good_rows_and_numbers_bad_ones() -> None:
    rows = [{"code": "A"}, {"code": "B", "lead_time_days": -1}, {"code": "C", "make_buy": "steal"}]
    good, bad = validate_batch("items", rows, file="items.csv", row_numbers=[2, 3, 4])
    assert [i.code for i in good] == ["A"]  # type: ignore[attr-defined]
    assert [(e.row, e.field) for e in bad] == [(3, "lead_time_days"), (4, "make_buy")]
    assert str(bad[0]).startswith("items.csv, row 3: items 'B', field lead_time_days:")


def test_unit_conversion_item_specific_global_and_inverse() -> None:
    conv = UomConverter(known_units={"EA", "BOX", "KG", "G"})
    conv.add_conversion("BOLT", "BOX", "EA", 50)
    conv.add_conversion("", "KG", "G", 1000)
    assert conv.to_stock("BOLT", 3, "BOX", "EA") == 150
    assert conv.to_stock("PAINT", 250, "G", "KG") == pytest.approx(0.25)  # inverse of a global
    assert conv.to_stock("ANY", 2, "KG", "G") == 2000
    with pytest.raises(UomError, match="no conversion from BOX to EA for item NUT"):
        conv.factor("NUT", "BOX", "EA")
    with pytest.raises(UomError, match="unknown unit 'LB'"):
        conv.factor("NUT", "LB", "KG")


def test_item_defaults_are_a_bought_each() -> None:
    item = Item(code="X")
    assert (item.stock_uom, item.make_buy, item.lead_time_days) == ("EA", "buy", 0)
