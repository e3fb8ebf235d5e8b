from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..choices import MirrorChangeActionChoices, SyncOutcomeChoices, SyncTriggerChoices
from ..kinds.values import NAME_LENGTH
from ..run_record import MAX_KIND, error_count, merge_errors
from .querysets import FabricScopedQuerySet

__all__ = ('MirrorChange', 'SyncRun')


class SyncRun(models.Model):
    """
    The record of one sync attempt of one fabric.

    A plugin model rather than NetBox's core.Job: runs are started by the plugin's own scheduler, not by RQ, and
    users filter and compare them by fabric, trigger, outcome and per-kind counts, which core.Job keeps only as an
    opaque blob.
    """

    fabric = models.ForeignKey(
        to='netbox_hedgehog.HedgehogFabric', on_delete=models.CASCADE, related_name='sync_runs'
    )
    trigger = models.CharField(verbose_name=_('trigger'), max_length=20, choices=SyncTriggerChoices)
    outcome = models.CharField(
        verbose_name=_('outcome'), max_length=20, choices=SyncOutcomeChoices, default=SyncOutcomeChoices.RUNNING
    )
    started = models.DateTimeField(verbose_name=_('started'), db_index=True)
    finished = models.DateTimeField(verbose_name=_('finished'), null=True, blank=True)
    duration = models.FloatField(verbose_name=_('duration (s)'), null=True, blank=True)
    # {kind: {"created": n, "updated": n, "deleted": n, "unchanged": n}}
    counts = models.JSONField(verbose_name=_('counts'), default=dict, blank=True)
    # Kinds whose API group or resource the cluster does not serve.
    not_installed = models.JSONField(verbose_name=_('not installed'), default=list, blank=True)
    # {kind: {"created": [names], "updated": [...], "deleted": [...]}}, capped by sync_changed_names_cap.
    changes = models.JSONField(verbose_name=_('changes'), default=dict, blank=True)
    # [{"kind": ..., "name": ..., "message": ...}] in words a network engineer understands: SyncErrors, capped
    # (run_record.py). Written through add_errors().
    errors = models.JSONField(verbose_name=_('errors'), default=list, blank=True)
    # {"dcim.device": {"created": n, "updated": n, "deleted": n, "marked": n, "unchanged": n, "conflicts": n}, ...}:
    # what the inventory step did to NetBox's own objects, by type (run_record.INVENTORY_ACTIONS). Empty when the
    # fabric's inventory sync is off.
    inventory_counts = models.JSONField(verbose_name=_('inventory counts'), default=dict, blank=True)
    # The change log request id of the inventory step's changes (NetBox's change log filters by it).
    inventory_request_id = models.UUIDField(verbose_name=_('inventory request ID'), null=True, blank=True)

    # Visible only to users who may view the fabric.
    objects = FabricScopedQuerySet.as_manager()

    class Meta:
        ordering = ('-started', '-pk')
        verbose_name = _('sync run')
        verbose_name_plural = _('sync runs')
        indexes = [
            models.Index(fields=['fabric', '-started'], name='netbox_hedg_run_fabric'),
        ]

    def __str__(self):
        return f'{self.fabric} @ {self.started:%Y-%m-%d %H:%M:%S}'

    def get_absolute_url(self):
        return reverse('plugins:netbox_hedgehog:syncrun', args=[self.pk])

    def get_outcome_color(self):
        return SyncOutcomeChoices.colors.get(self.outcome)

    def get_trigger_color(self):
        return SyncTriggerChoices.colors.get(self.trigger)

    def add_errors(self, *errors):
        """Record SyncErrors on the run, within the run's cap on kept errors."""
        self.errors = merge_errors(self.errors, errors)

    @property
    def error_count(self):
        """Errors of the run, counting those beyond the cap that were not kept."""
        return error_count(self.errors)


class MirrorChange(models.Model):
    """
    One object that one sync run created, updated or deleted: the object's sync history, which replaces NetBox's
    change log for mirrored objects (the sync writes in bulk, so the change log never sees them).

    Keyed by fabric, kind and uid rather than by a foreign key to the mirrored row, so that the history of a deleted
    object survives it, and its name is kept for the same reason. Written only for changed rows, in bulk
    (sync/history.py); it goes with its run when the run is pruned, and with its fabric.
    """

    run = models.ForeignKey(to=SyncRun, on_delete=models.CASCADE, related_name='object_changes')
    # Repeated from the run, so that one index answers "the history of this object".
    fabric = models.ForeignKey(
        to='netbox_hedgehog.HedgehogFabric', on_delete=models.CASCADE, related_name='+', db_index=False
    )
    kind = models.CharField(verbose_name=_('kind'), max_length=MAX_KIND)
    uid = models.CharField(verbose_name=_('UID'), max_length=64)
    name = models.CharField(verbose_name=_('name'), max_length=NAME_LENGTH)
    action = models.CharField(verbose_name=_('action'), max_length=10, choices=MirrorChangeActionChoices)

    # Visible only to users who may view the fabric.
    objects = FabricScopedQuerySet.as_manager()

    class Meta:
        # A fabric's runs never overlap (they hold its lock), so insertion order is time order.
        ordering = ('-pk',)
        verbose_name = _('mirror change')
        verbose_name_plural = _('mirror changes')
        indexes = [
            models.Index(fields=['fabric', 'kind', 'uid'], name='netbox_hedg_change_object'),
        ]

    def __str__(self):
        return f'{self.kind} {self.name} {self.action}'

    def get_action_color(self):
        return MirrorChangeActionChoices.colors.get(self.action)
