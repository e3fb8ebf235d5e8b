from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from netbox.context import current_request

from .choices import SchedulerNoticeActionChoices
from .models import HedgehogFabric
from .scheduling.notices import notify_scheduler


def _requesting_user():
    request = current_request.get()
    return getattr(request, 'user', None)


@receiver(post_save, sender=HedgehogFabric)
def fabric_saved(sender, instance, **kwargs):
    # Runs inside the save's transaction: the notice commits or rolls back with the change itself.
    notify_scheduler(instance.pk, SchedulerNoticeActionChoices.FABRIC_CHANGED, _requesting_user())


@receiver(post_delete, sender=HedgehogFabric)
def fabric_deleted(sender, instance, **kwargs):
    notify_scheduler(instance.pk, SchedulerNoticeActionChoices.FABRIC_DELETED, _requesting_user())
