from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from netbox.constants import CENSOR_TOKEN, CENSOR_TOKEN_CHANGED
from netbox.models import PrimaryModel

from ..choices import SyncStatusChoices
from ..validators import (
    kubernetes_namespace_validator,
    kubernetes_server_validator,
    sync_interval_validators,
    validate_ca_certificate,
    validate_kubeconfig,
)

__all__ = ('HedgehogFabric',)

# Written only by the sync machinery (with queryset updates); a user's save never writes them back.
SYNC_STATE_FIELDS = ('sync_status', 'last_sync', 'last_successful_sync', 'sync_error')

# Write-only fields: censored wherever NetBox serializes the object (change log, event rules, webhooks).
SECRET_FIELDS = ('kubernetes_token', 'kubeconfig')


class HedgehogFabric(PrimaryModel):
    """A Hedgehog fabric: where its Kubernetes API is, how often to mirror it, and how the last sync went."""

    name = models.CharField(verbose_name=_('name'), max_length=100, unique=True)

    # Connection. The token and the kubeconfig are secrets: forms, the REST API and GraphQL never return them.
    kubernetes_server = models.CharField(
        verbose_name=_('Kubernetes API server'),
        max_length=255,
        blank=True,
        validators=[kubernetes_server_validator],
        help_text=_('For example https://10.0.0.1:6443. Leave empty when a kubeconfig is given.'),
    )
    kubernetes_token = models.TextField(verbose_name=_('bearer token'), blank=True)
    kubernetes_ca_cert = models.TextField(
        verbose_name=_('CA certificate'),
        blank=True,
        validators=[validate_ca_certificate],
        help_text=_("PEM certificate of the CA that signed the API server's certificate"),
    )
    kubernetes_skip_tls_verify = models.BooleanField(
        verbose_name=_('skip TLS verification'),
        default=False,
        help_text=_('Do not verify the API server certificate. Insecure: use only for lab fabrics.'),
    )
    kubeconfig = models.TextField(verbose_name=_('kubeconfig'), blank=True, validators=[validate_kubeconfig])
    kubernetes_namespace = models.CharField(
        verbose_name=_('namespace'),
        max_length=63,
        default='default',
        validators=[kubernetes_namespace_validator],
        help_text=_('Hedgehog keeps every fabric object in the "default" namespace.'),
    )

    # Sync settings.
    sync_enabled = models.BooleanField(verbose_name=_('sync enabled'), default=True)
    sync_interval = models.PositiveIntegerField(
        verbose_name=_('sync interval'),
        default=300,
        validators=sync_interval_validators,
        help_text=_('Seconds between syncs (5 to 604800)'),
    )

    # Sync state: written only by the sync machinery, never by users.
    sync_status = models.CharField(
        verbose_name=_('sync status'),
        max_length=20,
        choices=SyncStatusChoices,
        default=SyncStatusChoices.NEVER_SYNCED,
        editable=False,
    )
    last_sync = models.DateTimeField(
        verbose_name=_('last sync'), null=True, blank=True, editable=False, help_text=_('Start of the latest attempt')
    )
    last_successful_sync = models.DateTimeField(
        verbose_name=_('last successful sync'), null=True, blank=True, editable=False
    )
    sync_error = models.TextField(verbose_name=_('sync error'), blank=True, editable=False)

    clone_fields = ('kubernetes_namespace', 'kubernetes_skip_tls_verify', 'sync_enabled', 'sync_interval')

    class Meta:
        ordering = ('name',)
        verbose_name = _('fabric')
        verbose_name_plural = _('fabrics')
        permissions = [
            ('sync', 'Run a sync or test the connection of a fabric'),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse('plugins:netbox_hedgehog:hedgehogfabric', args=[self.pk])

    def get_sync_status_color(self):
        return SyncStatusChoices.colors.get(self.sync_status)

    @property
    def has_connection(self):
        """A fabric can be scheduled only once it says where its Kubernetes API is."""
        return bool(self.kubernetes_server or self.kubeconfig)

    @property
    def is_schedulable(self):
        return self.sync_enabled and self.has_connection

    def clean(self):
        super().clean()
        if self.kubernetes_server and self.kubeconfig:
            raise ValidationError(
                {'kubeconfig': _('Give either a server URL with a token, or a kubeconfig, not both.')}
            )

    def save(self, *args, **kwargs):
        if not self._state.adding and kwargs.get('update_fields') is None:
            # An instance loaded before a sync finished still holds the old sync state; writing it back would undo
            # the sync's record (and make the scheduler reschedule from a stale start time).
            kwargs['update_fields'] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in SYNC_STATE_FIELDS
            ]
            super().save(*args, **kwargs)
            self.refresh_from_db(fields=SYNC_STATE_FIELDS)
            return
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # The mirror can hold tens of thousands of rows; Django's cascade would visit (and change-log) each one.
        from ..sync.apply import purge_mirror

        with transaction.atomic():
            purge_mirror(self)
            return super().delete(*args, **kwargs)

    delete.alters_data = True

    def serialize_object(self, exclude=None):
        data = super().serialize_object(exclude=exclude)
        for field_name in SECRET_FIELDS:
            if data.get(field_name):
                data[field_name] = CENSOR_TOKEN
        return data

    def snapshot(self):
        super().snapshot()
        # Kept in memory only, to tell the change log that a secret was replaced without recording either value.
        self._prechange_secrets = {field_name: getattr(self, field_name) for field_name in SECRET_FIELDS}

    snapshot.alters_data = True

    def to_objectchange(self, action):
        objectchange = super().to_objectchange(action)
        before = getattr(self, '_prechange_secrets', None)
        if before is not None and objectchange.postchange_data:
            for field_name in SECRET_FIELDS:
                if getattr(self, field_name) and getattr(self, field_name) != before[field_name]:
                    objectchange.postchange_data[field_name] = CENSOR_TOKEN_CHANGED
        return objectchange

    to_objectchange.alters_data = True
