"""Who may do what: citizens, agencies and licensing officers (see README "Officers").

An officer is either
* an agency back office — a routed call whose client is one of ``officer_clients``
  (``licensing``) declaring a purpose that starts with ``officer``
  (e.g. ``officer: license review``); the officer's IIN, if given, is the acting user; or
* a person on the agency's officer roster (``officer_iins``) calling with their own login.
"""

from __future__ import annotations

from egov_licensing.settings import LicensingSettings
from meshkit.auth.assertion import RoutedCall
from meshkit.errors import PermissionDenied


def officer_actor(call: RoutedCall, settings: LicensingSettings) -> str | None:
    """``officer:<iin or agency>`` when the call is an officer's, else None."""
    purpose = (call.purpose or "").strip().lower()
    if (
        not call.is_citizen
        and call.client in settings.officer_clients
        and purpose.startswith(settings.officer_purpose_prefix.lower())
    ):
        return f"officer:{call.user or call.client}"
    if call.is_citizen and call.user and call.user in settings.officer_iins:
        return f"officer:{call.user}"
    return None


def require_officer(call: RoutedCall, settings: LicensingSettings) -> str:
    actor = officer_actor(call, settings)
    if actor is None:
        raise PermissionDenied(
            "only a licensing officer may do this (an officer back office declaring an "
            "'officer' purpose, or a person on the officer roster)"
        )
    return actor


def applicant_actor(call: RoutedCall, applicant_iin: str) -> str:
    """Who files: a citizen on their own behalf, or an agency on the applicant's behalf."""
    if call.is_citizen:
        if call.user != applicant_iin:
            raise PermissionDenied("a citizen may apply only on their own behalf (applicant_iin)")
        return f"citizen:{applicant_iin}"
    if call.user is not None and call.user != applicant_iin:
        raise PermissionDenied(
            "the agency acts on behalf of another person than the applicant (X-Mesh-User)"
        )
    return f"agency:{call.client}" + (f":{call.user}" if call.user else "")


def may_read_application(call: RoutedCall, settings: LicensingSettings, applicant_iin: str) -> bool:
    if officer_actor(call, settings) is not None:
        return True
    if call.is_citizen:
        return call.user == applicant_iin
    # an agency sees an application on behalf of that person (the single window calls as
    # the citizen, with the citizen's own rights)
    return call.user == applicant_iin
