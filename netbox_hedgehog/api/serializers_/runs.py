from netbox.api.fields import ChoiceField
from netbox.api.serializers import BaseModelSerializer

from ...choices import SyncOutcomeChoices, SyncTriggerChoices
from ...models import SyncRun
from .fabric import HedgehogFabricSerializer

__all__ = ('SyncRunSerializer',)


class SyncRunSerializer(BaseModelSerializer):
    fabric = HedgehogFabricSerializer(nested=True, read_only=True)
    trigger = ChoiceField(choices=SyncTriggerChoices, read_only=True)
    outcome = ChoiceField(choices=SyncOutcomeChoices, read_only=True)

    class Meta:
        model = SyncRun
        fields = (
            'id', 'url', 'display_url', 'display', 'fabric', 'trigger', 'outcome', 'started', 'finished', 'duration',
            'counts', 'not_installed', 'changes', 'errors',
        )
        read_only_fields = fields
        brief_fields = ('id', 'url', 'display', 'fabric', 'outcome', 'started')
