"""Budget classification codes (KBK) the service knows by name.

Kazakhstan's unified budget classification gives every revenue and spending line a 6-digit
code; class 1 "tax receipts", category 08 "obligatory payments for legally significant
actions" holds the state duties (108xxx). Payments owns the lines it budgets: they are kept
in ONE data file, ``shared/meshkit/reference/payments/kbk.json`` (validated by
:class:`meshkit.reference.KbkTable`), which licensing (its licence fee) and notary (its
notarial duty) read as well — nobody keeps a copy. They are configuration, not law: an agency
may invoice against any 6-digit KBK.
"""

from __future__ import annotations

from typing import Final

from meshkit.reference import kbk, kbk_table

#: State duty for the state registration of legal entities
STATE_DUTY_LEGAL_ENTITY_REGISTRATION: Final = kbk("state_duty_legal_entity_registration")
#: State duty for notarial actions performed by state notaries
STATE_DUTY_NOTARIAL_ACTIONS: Final = kbk("state_duty_notarial_actions")
#: Fee for issuing licences for certain kinds of activity
LICENSE_FEE: Final = kbk("licence_fee")
#: Social benefits (a spending line): the one-time state allowances — at the birth of a child,
#: for a funeral — that payments pays from its own budget account (``reference/allowances.json``)
SOCIAL_BENEFITS: Final = kbk("social_benefits")
#: the same line under its earlier name
BIRTH_ALLOWANCE: Final = SOCIAL_BENEFITS

NAMES: Final[dict[str, str]] = {line.code: line.name for line in kbk_table().codes.values()}
