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
from ..kube.decode import UndecodableItem
from ..kube.errors import FabricAPIError
from ..run_record import CHANGE_ACTIONS, SyncError
from ..timing import phase
from .apply import (
    STATISTICS_THRESHOLD,
    KindListingRead,
    apply_kind,
    existing_rows,
    refresh_statistics,
    resolve_references,
)
from .history import record_changes
from .listing import list_kinds
from .resources import MalformedObject, read_identity, read_object
from .search_cache import refresh_search_cache

__all__ = ('mirror_fabric',)

logger = logging.getLogger('netbox_hedgehog.sync')

NOTHING_SERVED = (
    "The cluster serves none of the Hedgehog API groups: is this the Kubernetes API of the fabric's control node?"
)


def _read_listing(listing, namespace, existing, errors):
    """
    Sort a kind's listed objects into a KindListingRead. An object whose resourceVersion the mirror already holds
    is not read further: it was whole when it was written. Malformed objects and duplicates are reported, and
    their uids and names kept, so bad input never deletes what the mirror already holds.
    """
    kind = listing.info.kind
    read = KindListingRead()
    seen_uids, seen_names = set(), set()
    for item in listing.items:
        try:
            if isinstance(item, UndecodableItem):
                raise MalformedObject(item.reason)
            uid, name, resource_version = read_identity(item)
            if uid in seen_uids or name in seen_names:
                raise MalformedObject('the API listed it twice')
            seen_uids.add(uid)
            seen_names.add(name)
            current = existing.get(uid)
            if current is not None and current.resource_version == resource_version:
                read.unchanged_uids.add(uid)
            else:
                read.rows.append(read_object(listing.info, item, namespace))
        except MalformedObject as exc:
            metadata = item.get('metadata') if isinstance(item, dict) else None
            metadata = metadata if isinstance(metadata, dict) else {}
            name, uid = metadata.get('name'), metadata.get('uid')
            name = name if isinstance(name, str) else ''
            if name:
                read.kept_names.add(name)
            if isinstance(uid, str) and uid:
                read.kept_uids.add(uid)
            errors.append(SyncError(f'skipped, malformed: {exc}', kind, name))
    return read


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


def _listing_errors(listings, cluster_error):
    """One error per kind that failed to list, and one for a failure that ended the listing early."""
    errors = [SyncError(cluster_error)] if cluster_error else []
    errors += [
        SyncError(listing.error, listing.info.kind)
        for listing in listings
        if listing.error and listing.error != cluster_error
    ]
    return errors


def _apply(fabric, run, listed, errors):
    """Apply every listed kind in one transaction, with the run's record of what changed; return {kind: KindChanges}."""
    # Only this run writes the fabric's mirror (it holds the fabric's lock), so what it reads here stays true.
    prepared = []
    with phase('diff'):
        for listing in listed:
            existing = existing_rows(fabric, listing.info.model)
            read = _read_listing(listing, fabric.kubernetes_namespace, existing, errors)
            prepared.append((listing.info, existing, read))
    changes_by_kind = {}
    with transaction.atomic():
        with phase('writes'):
            for info, existing, read in prepared:
                changes_by_kind[info.kind] = apply_kind(fabric, info, existing, read)
            grown = [info.model for info, *_ in prepared if changes_by_kind[info.kind].churn >= STATISTICS_THRESHOLD]
            refresh_statistics(grown)
        with phase('references'):
            resolve_references(fabric, changes_by_kind)
        with phase('writes'):
            # The many-to-many rows the resolution just wrote: the next run plans with them.
            refresh_statistics(grown, links=True)
        with phase('search cache'):
            for info, *_ in prepared:
                refresh_search_cache(fabric, info.model, changes_by_kind[info.kind])
        with phase('history'):
            record_changes(fabric, run, changes_by_kind)
    return changes_by_kind


def mirror_fabric(fabric, run):
    """Sync the fabric's mirror and record counts, changes, errors and the outcome on `run` (saved by the caller)."""
    try:
        settings = connection_settings(fabric)
        with fabric_api(fabric, settings) as api:
            page_size = get_plugin_config('netbox_hedgehog', 'kubernetes_page_size')
            with phase('listing'):
                listings, cluster_error = list_kinds(api, fabric.kubernetes_namespace, page_size)
    except FabricAPIError as exc:
        run.add_errors(SyncError(str(exc)))
        run.outcome = SyncOutcomeChoices.FAILED
        return

    run.not_installed = [listing.info.kind for listing in listings if listing.not_installed]
    errors = _listing_errors(listings, cluster_error)
    listed = [listing for listing in listings if listing.listed]
    if not listed:
        # Nothing was listed, so nothing may be deleted or changed.
        run.add_errors(*(errors or [SyncError(NOTHING_SERVED)]))
        run.outcome = SyncOutcomeChoices.FAILED
        return

    changes_by_kind = _apply(fabric, run, listed, errors)
    run.counts = {kind: changes.counts() for kind, changes in changes_by_kind.items()}
    run.changes = _capped_changes(changes_by_kind, get_plugin_config('netbox_hedgehog', 'sync_changed_names_cap'))
    # Any error makes the run partial (see runner.finish_run): some kinds or objects kept their previous mirror.
    run.add_errors(*errors)
    summary = ', '.join(
        f'{kind} +{len(c.created)} ~{len(c.updated)} -{len(c.deleted)}' for kind, c in changes_by_kind.items()
    )
    logger.info('Fabric %s mirrored: %s', fabric.name, summary)
