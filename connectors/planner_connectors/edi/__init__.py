"""Supplier EDI: purchase-order acknowledgements and ship notices (EDIFACT ORDRSP/DESADV D.96A
and D.01B, X12 855/856 4010 and 5010) read from an inbox folder. See docs/edi.md."""

from planner_connectors.edi.connector import EdiConnector, EdiOptions

__all__ = ["EdiConnector", "EdiOptions"]
