"""Budget classification codes (KBK) the service knows by name.

Kazakhstan's unified budget classification gives every revenue and spending line a 6-digit
code; class 1 "tax receipts", category 08 "obligatory payments for legally significant
actions" holds the state duties (108xxx). The codes below are chosen to be realistic for the
demo (state duty for registering a legal entity is 108114 as in the issue); they are
configuration, not law — an agency may invoice against any 6-digit KBK.
"""

from __future__ import annotations

from typing import Final

#: State duty for the state registration of legal entities
STATE_DUTY_LEGAL_ENTITY_REGISTRATION: Final = "108114"
#: State duty for notarial actions performed by state notaries
STATE_DUTY_NOTARIAL_ACTIONS: Final = "108106"
#: Fee for issuing licences for certain kinds of activity
LICENSE_FEE: Final = "105402"
#: Social benefits (a spending line): the one-time state allowances — at the birth of a child,
#: for a funeral — that payments pays from its own budget account (``reference/allowances.json``)
SOCIAL_BENEFITS: Final = "213050"
#: the same line under its earlier name
BIRTH_ALLOWANCE: Final = SOCIAL_BENEFITS

NAMES: Final[dict[str, str]] = {
    STATE_DUTY_LEGAL_ENTITY_REGISTRATION: "State duty: registration of a legal entity",
    STATE_DUTY_NOTARIAL_ACTIONS: "State duty: notarial actions",
    LICENSE_FEE: "Licence fee",
    SOCIAL_BENEFITS: "Social benefits: one-time state allowances (birth of a child, funeral)",
}
