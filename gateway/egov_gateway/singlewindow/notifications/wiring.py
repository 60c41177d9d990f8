"""Start/stop hooks of the notifications: the SMS dispatcher loop.

``runtime.extras["sms_sender"]`` (an :class:`SmsSender`) set before start replaces the routed
sender; ``runtime.extras["sms_dispatch"] = False`` keeps the loop from running (tests drive
``runtime.extras["sms_dispatcher"].run_once()`` themselves).
"""

from __future__ import annotations

from egov_gateway.singlewindow.notifications.sms import RoutedSmsSender, SmsDispatcher
from meshkit.service import ServiceRuntime

SMS_INTERVAL_S = 2.0


async def start_notifications(runtime: ServiceRuntime) -> None:
    sender = runtime.extras.get("sms_sender") or RoutedSmsSender(runtime.gateway_client())
    dispatcher = SmsDispatcher(runtime.uow_factory, sender)
    runtime.extras["sms_dispatcher"] = dispatcher
    if runtime.extras.get("sms_dispatch", True):
        runtime.spawn(dispatcher.loop(SMS_INTERVAL_S), "notifications-sms")
