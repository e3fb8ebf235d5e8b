"""What the plugin's management commands share."""

from django.core.management.base import BaseCommand

__all__ = ('NonWebCommand',)


class NonWebCommand(BaseCommand):
    """
    A command that serves no web request: it skips Django's system checks. Those import every URLconf, view and
    template tag, and with NetBox's URLconf the whole GraphQL schema, which costs over ten seconds on a small
    machine; a command that uses none of them must not wait for, or fail on, the web side.
    """

    requires_system_checks = []
