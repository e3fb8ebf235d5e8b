"""
The inventory step of a sync run: map the fabric's mirror to NetBox objects, write what differs, apply the orphan
policy, and record what changed on the run.

Runs after the mirror is committed, in its own transaction: a failure here rolls back the inventory step alone
and leaves the mirror as the run wrote it. Every change is made as the user named by the `inventory_user`
setting, under one change-log request id per run, so NetBox's change log shows the run's changes together.
A run in which nothing the step reads has changed since its last complete step skips it (state.py).
"""

import logging
import uuid

from dcim.models import Interface, Site
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from extras.models import Tag
from netbox.context_managers import event_tracking
from netbox.plugins import get_plugin_config
from users.models import User
from utilities.request import NetBoxFakeRequest

from ..kinds import KINDS
from ..timing import phase
from . import state
from .context import MappingContext
from .orphans import apply_orphan_policy
from .writer import Writer

__all__ = ('ORPHAN_TAG', 'OWNER_TAG', 'sync_inventory', 'tags')

logger = logging.getLogger('netbox_hedgehog.inventory')

OWNER_TAG = 'hedgehog'
ORPHAN_TAG = 'hedgehog-orphan'
# Mirrored fields no mapping reads, left in the database: decoding them would be most of reading the mirror.
UNMAPPED_FIELDS = (
    'labels', 'annotations', 'status', 'custom_field_data', 'created', 'last_updated', 'kubernetes_created',
)


def tags():
    """The tags every inventory object carries, and orphans kept under the "mark" policy."""
    owner, _ = Tag.objects.get_or_create(
        slug=OWNER_TAG, defaults={'name': OWNER_TAG, 'color': '4caf50',
                                  'description': 'Created and kept in step by a Hedgehog fabric sync'},
    )
    orphan, _ = Tag.objects.get_or_create(
        slug=ORPHAN_TAG, defaults={'name': ORPHAN_TAG, 'color': 'ff9800',
                                   'description': 'No longer in its Hedgehog fabric; kept by the orphan policy'},
    )
    return owner, orphan


def inventory_user():
    """The user inventory changes are attributed to (the `inventory_user` setting), created when missing."""
    username = get_plugin_config('netbox_hedgehog', 'inventory_user')
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, is_active=False)
    return user


def change_request(user):
    """What NetBox's change logging and event rules read from the request a change was made in."""
    return NetBoxFakeRequest({
        'META': {}, 'COOKIES': {}, 'POST': {}, 'GET': {}, 'FILES': {}, 'user': user, 'method': 'POST',
        'path': '', 'id': uuid.uuid4(),
    })


def build_plan(fabric):
    """The fabric's inventory as its mirror says it should be, and the uids of objects the mappings skipped."""
    context = MappingContext(
        fabric, ContentType.objects.get_for_model(Interface).pk, ContentType.objects.get_for_model(Site).pk,
    )
    for kind in KINDS:
        if kind.inventory is not None:
            rows = kind.model.objects.filter(fabric=fabric).defer(*UNMAPPED_FIELDS).order_by('name')
            kind.inventory(context, rows)
    return context


def sync_inventory(fabric, run):
    """Bring the fabric's NetBox inventory in step with its mirror; record counts and errors on `run`."""
    # Before anything is read: what is saved from now on, by users or by this step, is looked at again next time.
    started = timezone.now()
    with phase('inventory: check for changes'):
        inputs = state.current_inputs(fabric)
        last = state.nothing_changed(fabric, inputs)
    if last is not None:
        run.inventory_request_id = uuid.uuid4()
        run.inventory_counts = {label: {'unchanged': count} for label, count in sorted(last.counts.items())}
        run.add_errors(*state.reported_errors(last))
        logger.info('Inventory of fabric %s: nothing changed since %s', fabric.name, last.started.isoformat())
        return
    with phase('inventory: mapping the mirror'):
        context = build_plan(fabric)
    request = change_request(inventory_user())
    with event_tracking(request), transaction.atomic():
        owner_tag, orphan_tag = tags()
        with phase('inventory: ownership records'):
            writer = Writer(fabric, context.plan, owner_tag, orphan_tag)
        writer.write()
        with phase('inventory: orphans'):
            wanted = {(want.model.lower(), want.source) for want in context.plan.wants.values()}
            apply_orphan_policy(writer, wanted, context.skipped_uids)
        errors = [*context.errors, *writer.errors]
        state.record_step(fabric, started, inputs, writer.settled, writer.counts, errors)
    run.inventory_request_id = request.id
    run.inventory_counts = {label: dict(sorted(counts.items())) for label, counts in sorted(writer.counts.items())}
    run.add_errors(*errors)
    logger.info('Inventory of fabric %s: %s', fabric.name, run.inventory_counts)
