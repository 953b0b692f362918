"""Text after the last segment terminator is refused by both EDIFACT readers alike (the fast
``str.split`` one and pydifact's tokenizer, which would drop it): the fuzz test's rule "the same
interchange, or an error from both" on the example it found."""

from __future__ import annotations

import pytest
from planner_connectors.edi import edifact
from planner_connectors.edi.model import EdiError

BODY = (
    "UNB+UNOC:3+5400000000001:14+PLANT:14+261209:1000+C2'\n"
    "UNH+1+DESADV:D:01B:UN'\nBGM+351+SH-1+9'\nDTM+137:202612091000:203'\n"
    "DTM+11:20261209:102'\nDTM+132:20261211:102'\nCPS+1'\n"
    "LIN+1+'\nQTY+12:60:C62'\nRFF+ON:PO-1'\nRFF+LI:1'\n"
    "LIN+2+'\nQTY+12:20:KGM'\nRFF+ON:PO-1'\nRFF+LI:2'\n"
    "UNT+15+1'\nUNZ+1+C2'"
)


@pytest.mark.parametrize("fast", [True, False])
def test_text_after_the_last_terminator_is_refused_by_both_readers(fast: bool) -> None:
    assert edifact.read("UNA:+.? '\n" + BODY, fast=fast).control_ref == "C2"
    with pytest.raises(EdiError) as caught:
        edifact.read("UNA:+.? '\n" + BODY + "+", fast=fast)
    err = caught.value
    # 17 segments read (UNB .. UNZ); the 18th is the fragment "+"
    assert (err.reason, err.segment, err.element) == ("segment not terminated", 18, "+")
    assert str(err) == "segment 18, +: segment not terminated (expected the segment terminator \"'\")"


def test_a_release_character_in_the_text_takes_the_tokenizer_and_the_same_rule() -> None:
    released = BODY.replace("SH-1", "SH?+1")  # an escaped data separator inside a value
    assert edifact.read("UNA:+.? '\n" + released + " \n", fast=True).control_ref == "C2"
    with pytest.raises(EdiError, match="segment 18, \\+: segment not terminated"):
        edifact.read("UNA:+.? '\n" + released + "+", fast=True)
    with pytest.raises(EdiError, match="not readable as EDIFACT"):  # pydifact's own refusal
        edifact.read("UNA:+.? '\n" + released + "UNZ+1+C2", fast=True)
