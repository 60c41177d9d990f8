"""outbox, inbox and mesh echo tables (revision 0001, the same in every service)"""

from meshkit.messaging_migration import *  # noqa: F403
