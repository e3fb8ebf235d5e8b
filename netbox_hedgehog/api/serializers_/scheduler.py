from rest_framework import serializers

from ...models import SchedulerNotice
from .fabric import HedgehogFabricSerializer

__all__ = (
    'ExecutorStateSerializer',
    'FabricWithoutJobSerializer',
    'SchedulerInstanceSerializer',
    'SchedulerJobSerializer',
    'SchedulerStatusSerializer',
    'SyncRequestSerializer',
)


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


class SchedulerJobSerializer(serializers.Serializer):
    """One job of the job store (netbox_hedgehog.scheduling.job_store.JobInfo)."""

    id = serializers.CharField(source='job_id')
    kind = serializers.CharField(allow_null=True, help_text='scheduled or sync_now; null for a job of no fabric')
    fabric_id = serializers.IntegerField(allow_null=True)
    fabric = serializers.CharField(source='fabric_name', allow_null=True, help_text='Null once the fabric is gone')
    interval = serializers.IntegerField(allow_null=True, help_text='Seconds; null for a "sync now"')
    next_run_time = serializers.DateTimeField(allow_null=True, help_text='Null while the job is paused')
    seconds_until_next_run = serializers.FloatField(allow_null=True)
    last_run_started = serializers.DateTimeField(allow_null=True)
    last_run_outcome = serializers.CharField(allow_null=True)
    last_run_duration = serializers.FloatField(allow_null=True)


class ExecutorStateSerializer(serializers.Serializer):
    """Where due runs go (netbox_hedgehog.scheduling.executor.ExecutorState)."""

    name = serializers.CharField(help_text='The sync_executor setting: thread or rq')
    queue = serializers.CharField(allow_blank=True, help_text='The RQ queue under rq')
    workers = serializers.IntegerField(allow_null=True, help_text='Live RQ workers on the queue; null under thread')
    waiting = serializers.IntegerField(allow_null=True, help_text='Runs waiting in the queue; null under thread')
    problem = serializers.CharField(allow_blank=True)


class FabricWithoutJobSerializer(serializers.Serializer):
    fabric_id = serializers.IntegerField()
    fabric = serializers.CharField(source='fabric_name')
    reason = serializers.CharField()


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
