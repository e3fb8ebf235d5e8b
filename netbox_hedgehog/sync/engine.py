"""
Mirror one fabric: list every Hedgehog kind from its Kubernetes API, then apply all of them in one transaction.

Nothing is written until every kind has been listed, so NetBox never shows half a sync, and a kind that could not
be listed keeps its previous mirror: only a complete listing may delete.
"""

import logging

from django.db import transaction
from netbox.plugins import get_plugin_config

from ..choices import SyncOutcomeChoices
from ..kube.client import connection_settings, fabric_api
from ..kube.errors import FabricAPIError
from .apply import apply_kind, resolve_references
from .listing import list_kinds
from .resources import MalformedObject, read_object

__all__ = ('mirror_fabric',)

logger = logging.getLogger('netbox_hedgehog.sync')

CHANGE_ACTIONS = ('created', 'updated', 'deleted')


def _error(kind, name, message):
    return {'kind': kind, 'name': name, 'message': message}


def _read_listing(listing, namespace, errors):
    """
    Read a kind's listed objects into MirrorRows. Malformed objects and duplicates are reported and returned as
    uids and names to keep as they are, so bad input never deletes what the mirror already holds.
    """
    kind = listing.info.kind
    rows, kept_uids, kept_names = [], set(), set()
    seen_uids, seen_names = set(), set()
    for item in listing.items:
        try:
            row = read_object(kind, item, namespace)
            if row.uid in seen_uids or row.name in seen_names:
                raise MalformedObject('the API listed it twice')
        except MalformedObject as exc:
            metadata = item.get('metadata') if isinstance(item, dict) else None
            metadata = metadata if isinstance(metadata, dict) else {}
            name, uid = metadata.get('name'), metadata.get('uid')
            name = name if isinstance(name, str) else ''
            if name:
                kept_names.add(name)
            if isinstance(uid, str) and uid:
                kept_uids.add(uid)
            errors.append(_error(kind, name, f'skipped, malformed: {exc}'))
            continue
        seen_uids.add(row.uid)
        seen_names.add(row.name)
        rows.append(row)
    return rows, kept_uids, kept_names


def _capped_changes(changes_by_kind, cap):
    """{kind: {action: [names]}} holding at most `cap` names in all, kinds in sync order."""
    capped = {}
    remaining = cap
    for kind, changes in changes_by_kind.items():
        for action in CHANGE_ACTIONS:
            names = getattr(changes, action)[:remaining]
            if names:
                capped.setdefault(kind, {})[action] = names
                remaining -= len(names)
    return capped


def mirror_fabric(fabric, run):
    """Sync the fabric's mirror and record counts, changes, errors and the outcome on `run` (saved by the caller)."""
    errors = []
    try:
        settings = connection_settings(fabric)
        with fabric_api(fabric, settings) as api:
            listings, cluster_error = list_kinds(
                api, fabric.kubernetes_namespace, get_plugin_config('netbox_hedgehog', 'kubernetes_page_size')
            )
    except FabricAPIError as exc:
        run.errors = [*run.errors, _error('', '', str(exc))]
        run.outcome = SyncOutcomeChoices.FAILED
        return

    run.not_installed = [listing.info.kind for listing in listings if listing.not_installed]
    if cluster_error:
        errors.append(_error('', '', cluster_error))
    for listing in listings:
        if listing.error and listing.error != cluster_error:
            errors.append(_error(listing.info.kind, '', listing.error))
    listed = [listing for listing in listings if listing.listed]
    if not listed:
        if not errors:
            errors.append(_error('', '', 'The cluster serves none of the Hedgehog API groups: is this the Kubernetes '
                                         "API of the fabric's control node?"))
        run.errors = [*run.errors, *errors]
        run.outcome = SyncOutcomeChoices.FAILED
        return

    prepared = [(listing.info, *_read_listing(listing, fabric.kubernetes_namespace, errors)) for listing in listed]
    changes_by_kind = {}
    with transaction.atomic():
        for info, rows, kept_uids, kept_names in prepared:
            changes_by_kind[info.kind] = apply_kind(fabric, info.model, rows, kept_uids, kept_names)
        resolve_references(fabric)

    run.counts = {kind: changes.counts() for kind, changes in changes_by_kind.items()}
    run.changes = _capped_changes(changes_by_kind, get_plugin_config('netbox_hedgehog', 'sync_changed_names_cap'))
    # Any error makes the run partial (see runner.finish_run): some kinds or objects kept their previous mirror.
    run.errors = [*run.errors, *errors]
    summary = ', '.join(
        f'{kind} +{len(c.created)} ~{len(c.updated)} -{len(c.deleted)}' for kind, c in changes_by_kind.items()
    )
    logger.info('Fabric %s mirrored: %s', fabric.name, summary)
