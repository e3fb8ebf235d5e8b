from dcim.models import Site
from django import forms
from django.utils.translation import gettext_lazy as _
from netbox.forms import PrimaryModelBulkEditForm, PrimaryModelFilterSetForm, PrimaryModelForm, PrimaryModelImportForm
from tenancy.models import Tenant
from utilities.forms import BOOLEAN_WITH_BLANK_CHOICES
from utilities.forms.fields import CommentField, CSVChoiceField, CSVModelChoiceField, TagFilterField
from utilities.forms.rendering import FieldSet
from utilities.forms.widgets import BulkEditNullBooleanSelect

from ..choices import InventoryOrphanChoices, SyncStatusChoices
from ..models import HedgehogFabric
from ..validators import SYNC_INTERVAL_MAX, SYNC_INTERVAL_MIN, sync_interval_validators

__all__ = ('HedgehogFabricBulkEditForm', 'HedgehogFabricFilterForm', 'HedgehogFabricForm', 'HedgehogFabricImportForm')

# What a user sets on a fabric, in the edit form and in an import alike.
FABRIC_FIELDS = (
    'name', 'description', 'kubernetes_server', 'kubernetes_token', 'kubernetes_ca_cert',
    'kubernetes_skip_tls_verify', 'kubeconfig', 'kubernetes_namespace', 'sync_enabled', 'sync_interval',
    'inventory_sync', 'inventory_site', 'inventory_tenant', 'inventory_orphans', 'inventory_adopt_existing',
    'owner', 'comments', 'tags',
)

# Secrets are write-only: the form never renders a stored value, an empty field keeps it, and clearing it takes
# ticking the matching "clear" box.
SECRET_FIELDS = {
    'kubernetes_token': 'clear_kubernetes_token',
    'kubeconfig': 'clear_kubeconfig',
}


class HedgehogFabricForm(PrimaryModelForm):
    kubernetes_token = forms.CharField(
        label=_('Bearer token'),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={'autocomplete': 'new-password'}),
        help_text=_('Write-only. Leave empty to keep the stored token.'),
    )
    clear_kubernetes_token = forms.BooleanField(label=_('Clear the stored token'), required=False)
    kubeconfig = forms.CharField(
        label=_('Kubeconfig'),
        required=False,
        widget=forms.Textarea(attrs={'rows': 6, 'class': 'font-monospace', 'autocomplete': 'off'}),
        help_text=_(
            'Write-only; an alternative to server and token. One cluster, one user and the context joining them. '
            'Leave empty to keep the stored kubeconfig.'
        ),
    )
    clear_kubeconfig = forms.BooleanField(label=_('Clear the stored kubeconfig'), required=False)
    kubernetes_ca_cert = forms.CharField(
        label=_('CA certificate'),
        required=False,
        widget=forms.Textarea(attrs={'rows': 4, 'class': 'font-monospace'}),
        help_text=_("PEM certificate of the CA that signed the API server's certificate"),
    )
    sync_interval = forms.IntegerField(
        label=_('Sync interval'),
        initial=300,
        validators=sync_interval_validators,
        help_text=_('Seconds between syncs ({min} to {max})').format(min=SYNC_INTERVAL_MIN, max=SYNC_INTERVAL_MAX),
    )
    comments = CommentField()

    fieldsets = (
        FieldSet('name', 'description', 'tags', name=_('Fabric')),
        FieldSet(
            'kubernetes_server', 'kubernetes_token', 'clear_kubernetes_token', 'kubernetes_ca_cert',
            'kubernetes_skip_tls_verify', 'kubeconfig', 'clear_kubeconfig', 'kubernetes_namespace',
            name=_('Kubernetes connection'),
        ),
        FieldSet('sync_enabled', 'sync_interval', name=_('Sync')),
        FieldSet(
            'inventory_sync', 'inventory_site', 'inventory_tenant', 'inventory_orphans', 'inventory_adopt_existing',
            name=_('NetBox inventory'),
        ),
    )

    class Meta:
        model = HedgehogFabric
        fields = FABRIC_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field_name, clear_field in SECRET_FIELDS.items():
            self.initial.pop(field_name, None)
            if self.instance.pk and getattr(self.instance, field_name):
                self.fields[field_name].widget.attrs['placeholder'] = _('(set; leave empty to keep)')
            else:
                # Nothing stored, nothing to clear: no checkbox, and no label left behind for it.
                del self.fields[clear_field]

    def _post_clean(self):
        # Put back stored secrets that were left empty, before the model (and its validators) sees the instance.
        for field_name, clear_field in SECRET_FIELDS.items():
            if self.cleaned_data.get(clear_field):
                self.cleaned_data[field_name] = ''
            elif not self.cleaned_data.get(field_name) and self.instance.pk:
                self.cleaned_data[field_name] = HedgehogFabric.objects.filter(pk=self.instance.pk).values_list(
                    field_name, flat=True
                ).first() or ''
        super()._post_clean()


class HedgehogFabricImportForm(PrimaryModelImportForm):
    """
    CSV/JSON/YAML import. Updating a fabric (with an id) changes only the columns given; a token or kubeconfig column
    is the secret entered, so the fabric's clean() sees whether the credentials came with a new endpoint.
    """

    inventory_site = CSVModelChoiceField(
        label=_('Inventory site'), queryset=Site.objects.all(), required=False, to_field_name='name',
        help_text=_('Site name'),
    )
    inventory_tenant = CSVModelChoiceField(
        label=_('Inventory tenant'), queryset=Tenant.objects.all(), required=False, to_field_name='name',
        help_text=_('Tenant name'),
    )
    inventory_orphans = CSVChoiceField(label=_('Inventory orphans'), choices=InventoryOrphanChoices, required=False)

    class Meta:
        model = HedgehogFabric
        fields = FABRIC_FIELDS


class HedgehogFabricBulkEditForm(PrimaryModelBulkEditForm):
    model = HedgehogFabric
    sync_enabled = forms.NullBooleanField(
        label=_('Sync enabled'), required=False, widget=BulkEditNullBooleanSelect()
    )
    sync_interval = forms.IntegerField(
        label=_('Sync interval (s)'),
        required=False,
        validators=sync_interval_validators,
    )
    kubernetes_skip_tls_verify = forms.NullBooleanField(
        label=_('Skip TLS verification'), required=False, widget=BulkEditNullBooleanSelect()
    )
    description = forms.CharField(label=_('Description'), max_length=200, required=False)
    comments = CommentField()

    fieldsets = (FieldSet('description', 'sync_enabled', 'sync_interval', 'kubernetes_skip_tls_verify'),)
    nullable_fields = ('description', 'comments')


class HedgehogFabricFilterForm(PrimaryModelFilterSetForm):
    model = HedgehogFabric
    fieldsets = (
        FieldSet('q', 'filter_id', 'tag'),
        FieldSet('sync_status', 'sync_enabled', name=_('Sync')),
        FieldSet('owner_group_id', 'owner_id', name=_('Ownership')),
    )
    sync_status = forms.MultipleChoiceField(label=_('Sync status'), choices=SyncStatusChoices, required=False)
    sync_enabled = forms.NullBooleanField(
        label=_('Sync enabled'), required=False, widget=forms.Select(choices=BOOLEAN_WITH_BLANK_CHOICES)
    )
    tag = TagFilterField(model)
