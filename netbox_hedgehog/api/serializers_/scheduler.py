from rest_framework import serializers

from ...models import SchedulerNotice
from .fabric import HedgehogFabricSerializer

__all__ = ('SchedulerInstanceSerializer', 'SchedulerStatusSerializer', 'SyncRequestSerializer')


class SchedulerInstanceSerializer(serializers.Serializer):
    hostname = serializers.CharField()
    pid = serializers.IntegerField()
    role = serializers.CharField()
    started = serializers.DateTimeField()
    last_beat = serializers.DateTimeField()
    heartbeat_age = serializers.FloatField(help_text='Seconds since the last heartbeat')
    version = serializers.CharField()
    job_count = serializers.IntegerField()


class SchedulerStatusSerializer(serializers.Serializer):
    running = serializers.BooleanField(help_text='A leader heartbeat is fresh')
    healthy = serializers.BooleanField(help_text='A leader heartbeat is fresh and the leader lock is held')
    problem = serializers.CharField(allow_blank=True)
    stopped_since = serializers.DateTimeField(allow_null=True, help_text='Last beat of the last leader')
    heartbeat_age = serializers.FloatField(allow_null=True, help_text="Seconds since the leader's last heartbeat")
    leader = SchedulerInstanceSerializer(allow_null=True)
    standbys = SchedulerInstanceSerializer(many=True)
    job_count = serializers.IntegerField(help_text='Jobs in the job store')


class SchedulerNoticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchedulerNotice
        fields = ('id', 'fabric_id', 'action', 'created')


class SyncRequestSerializer(serializers.Serializer):
    """The answer to a sync request: what was queued, and whether a scheduler will pick it up."""

    detail = serializers.CharField()
    scheduler_running = serializers.BooleanField()
    fabric = HedgehogFabricSerializer(nested=True)
    notice = SchedulerNoticeSerializer()
