from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from netbox.constants import CENSOR_TOKEN, CENSOR_TOKEN_CHANGED
from netbox.models import PrimaryModel

from ..choices import InventoryOrphanChoices, SyncStatusChoices
from ..crypto import is_entered
from ..validators import (
    kubernetes_namespace_validator,
    parse_kubeconfig,
    sync_interval_validators,
    validate_ca_certificate,
    validate_kubernetes_server,
    validate_token,
)
from .deletion import purge_fabric
from .fields import EncryptedTextField

__all__ = ('HedgehogFabric',)

# Written only by the sync machinery (with queryset updates); a user's save never writes them back.
SYNC_STATE_FIELDS = ('sync_status', 'last_sync', 'last_successful_sync', 'sync_error')

# Write-only fields, encrypted at rest: censored wherever NetBox serializes the object (change log, event rules,
# webhooks), and decrypted only where a connection is built (kube/client.py).
SECRET_FIELDS = ('kubernetes_token', 'kubeconfig')

# Where the credentials go. Changing any of them must come with the credentials again, so that a user who may edit
# a fabric but does not hold its token cannot point the stored token at a server of their choosing.
ENDPOINT_FIELDS = ('kubernetes_server', 'kubernetes_ca_cert', 'kubernetes_skip_tls_verify')


def _endpoint_value(value):
    """Compare as the client would use it: a CA pasted again with other line endings is the same CA."""
    if isinstance(value, str):
        return '\n'.join(line.strip() for line in value.strip().splitlines())
    return value


class HedgehogFabric(PrimaryModel):
    """A Hedgehog fabric: where its Kubernetes API is, how often to mirror it, and how the last sync went."""

    name = models.CharField(verbose_name=_('name'), max_length=100, unique=True)

    # Connection. The token and the kubeconfig are secrets: forms, the REST API and GraphQL never return them.
    kubernetes_server = models.CharField(
        verbose_name=_('Kubernetes API server'),
        max_length=255,
        blank=True,
        validators=[validate_kubernetes_server],
        help_text=_('For example https://10.0.0.1:6443. Leave empty when a kubeconfig is given.'),
    )
    # The token and the kubeconfig are validated in clean(), when entered: stored, they are ciphertext.
    kubernetes_token = EncryptedTextField(verbose_name=_('bearer token'), blank=True)
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
    kubeconfig = EncryptedTextField(verbose_name=_('kubeconfig'), blank=True)
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

    # NetBox inventory (docs/inventory.md): Devices, Cables and IPAM objects built from the mirror after each sync.
    inventory_sync = models.BooleanField(
        verbose_name=_('inventory sync'),
        default=False,
        help_text=_("Build and update NetBox devices, cables, VLAN groups, VRFs and prefixes from the fabric's mirror"),
    )
    inventory_site = models.ForeignKey(
        to='dcim.Site',
        on_delete=models.PROTECT,
        related_name='+',
        null=True,
        blank=True,
        verbose_name=_('inventory site'),
        help_text=_("The site of the fabric's devices and VLAN groups (required with inventory sync)"),
    )
    inventory_tenant = models.ForeignKey(
        to='tenancy.Tenant',
        on_delete=models.PROTECT,
        related_name='+',
        null=True,
        blank=True,
        verbose_name=_('inventory tenant'),
    )
    inventory_orphans = models.CharField(
        verbose_name=_('inventory orphans'),
        max_length=10,
        choices=InventoryOrphanChoices,
        default=InventoryOrphanChoices.DELETE,
        help_text=_('What happens to inventory objects the fabric no longer has'),
    )
    inventory_adopt_existing = models.BooleanField(
        verbose_name=_('adopt existing objects'),
        default=False,
        help_text=_(
            'Take over an existing object with the identity of a fabric object (for example a device with the '
            "switch's name in the site) instead of reporting a conflict"
        ),
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
        self._validate_entered_secrets()
        if self.kubernetes_server and self.kubeconfig:
            raise ValidationError(
                {'kubeconfig': _('Give either a server URL with a token, or a kubeconfig, not both.')}
            )
        self._validate_credentials_follow_endpoint()
        if self.inventory_sync and self.inventory_site_id is None:
            raise ValidationError({'inventory_site': _('A site is required to sync the inventory.')})

    def _validate_entered_secrets(self):
        errors = {}
        for field_name, validate in (('kubernetes_token', validate_token), ('kubeconfig', parse_kubeconfig)):
            value = getattr(self, field_name)
            if is_entered(value):
                try:
                    validate(value)
                except ValidationError as exc:
                    errors[field_name] = exc.messages
        if errors:
            raise ValidationError(errors)

    def _validate_credentials_follow_endpoint(self):
        """
        Every write path (forms, bulk edit, import, REST) ends here. A secret read from the database is `Sealed`;
        one entered in this save is plain text (crypto.is_entered), so the rule needs no help from the caller.
        """
        if self._state.adding:
            return
        stored = HedgehogFabric.objects.filter(pk=self.pk).values(*ENDPOINT_FIELDS).first()
        if stored is None or all(
            _endpoint_value(stored[name]) == _endpoint_value(getattr(self, name)) for name in ENDPOINT_FIELDS
        ):
            return
        # The credential that this fabric sends: its kubeconfig if it has one, else its token.
        if self.kubeconfig:
            if not is_entered(self.kubeconfig):
                raise ValidationError({'kubeconfig': _(
                    'The server or its TLS settings changed: re-enter the kubeconfig to send its credentials to a '
                    'new server.'
                )})
        elif self.kubernetes_token and not is_entered(self.kubernetes_token):
            raise ValidationError({'kubernetes_token': _(
                'The server or its TLS settings changed: re-enter the token to send it to a new server.'
            )})

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
        # The mirror can hold tens of thousands of rows; Django's cascade would load each one and signal it.
        from ..inventory.orphans import release_fabric

        with transaction.atomic():
            # The fabric's NetBox inventory follows its orphan policy, as if the fabric had emptied.
            if self.inventory_objects.exists():
                release_fabric(self)
            purge_fabric(self)
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
