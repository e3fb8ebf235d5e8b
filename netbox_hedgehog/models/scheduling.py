from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import SchedulerNoticeActionChoices, SchedulerRoleChoices

__all__ = ('SchedulerHeartbeat', 'SchedulerNotice')


class SchedulerNotice(models.Model):
    """
    A request from the web side to the scheduler, written in the same transaction as the change it reports.

    The web process never touches the scheduler's job store; it leaves one of these rows (and a NOTIFY) and the
    scheduler applies it. A rolled-back change therefore leaves no notice, and a committed one always does.
    """

    # Not a foreign key: a notice about a deleted fabric must outlive the fabric.
    fabric_id = models.PositiveBigIntegerField(verbose_name=_('fabric ID'), db_index=True)
    action = models.CharField(verbose_name=_('action'), max_length=20, choices=SchedulerNoticeActionChoices)
    created = models.DateTimeField(verbose_name=_('created'), auto_now_add=True)
    requested_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name='+'
    )
    processed = models.DateTimeField(verbose_name=_('processed'), null=True, blank=True)

    class Meta:
        ordering = ('pk',)
        verbose_name = _('scheduler notice')
        verbose_name_plural = _('scheduler notices')
        indexes = [
            models.Index(fields=['processed', 'id'], name='netbox_hedg_notice_pending'),
        ]

    def __str__(self):
        return f'{self.get_action_display()} (fabric {self.fabric_id})'


class SchedulerHeartbeat(models.Model):
    """One row per scheduler process, refreshed every few seconds; tells the UI and --check who is alive."""

    instance_id = models.CharField(verbose_name=_('instance'), max_length=64, unique=True)
    hostname = models.CharField(verbose_name=_('host'), max_length=255)
    pid = models.PositiveIntegerField(verbose_name=_('PID'))
    role = models.CharField(verbose_name=_('role'), max_length=20, choices=SchedulerRoleChoices)
    started = models.DateTimeField(verbose_name=_('started'))
    last_beat = models.DateTimeField(verbose_name=_('last heartbeat'), db_index=True)
    version = models.CharField(verbose_name=_('version'), max_length=50, blank=True)
    job_count = models.PositiveIntegerField(verbose_name=_('jobs'), default=0)

    class Meta:
        ordering = ('-last_beat',)
        verbose_name = _('scheduler heartbeat')
        verbose_name_plural = _('scheduler heartbeats')

    def __str__(self):
        return f'{self.hostname}:{self.pid} ({self.role})'
