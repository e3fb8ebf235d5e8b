"""The heartbeat row each scheduler process keeps fresh, read by `--check`, `hedgehog_jobs` and the UI."""

import logging
import os
import socket
import uuid
from datetime import timedelta

from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from netbox_hedgehog import __version__
from netbox_hedgehog.choices import SchedulerRoleChoices
from netbox_hedgehog.models import SchedulerHeartbeat

from .connections import refresh_django_connection

__all__ = ('Heartbeat',)

logger = logging.getLogger('scheduler_worker.heartbeat')

# Rows of processes gone this long are deleted; until then they show who ran where.
STALE_HEARTBEAT_RETENTION = timedelta(days=1)


class Heartbeat:
    def __init__(self):
        self.instance_id = uuid.uuid4().hex
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.started = timezone.now()
        self.failing = False

    def beat(self, role, job_count=0):
        """Write this process's row; a database outage is logged once and otherwise survived."""
        try:
            refresh_django_connection()
            SchedulerHeartbeat.objects.update_or_create(
                instance_id=self.instance_id,
                defaults={
                    'hostname': self.hostname,
                    'pid': self.pid,
                    'role': role,
                    'started': self.started,
                    'last_beat': timezone.now(),
                    'version': __version__,
                    'job_count': job_count,
                },
            )
        except DatabaseError as exc:
            if not self.failing:
                logger.warning('Cannot write the heartbeat: %s', exc)
            self.failing = True
            return False
        finally:
            close_old_connections()
        self.failing = False
        return True

    def retire_others(self):
        """
        Called by a new leader: whoever claimed leadership before is gone (the lock proves it), so its row
        must stop saying "leader"; rows of long-dead processes are dropped.
        """
        SchedulerHeartbeat.objects.filter(role=SchedulerRoleChoices.LEADER).exclude(
            instance_id=self.instance_id
        ).update(role=SchedulerRoleChoices.STOPPED)
        SchedulerHeartbeat.objects.filter(last_beat__lt=timezone.now() - STALE_HEARTBEAT_RETENTION).delete()
