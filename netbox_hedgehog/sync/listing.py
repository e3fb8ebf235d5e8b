"""List every mirrored kind of a fabric, page by page, and sort each kind into listed, not installed or failed."""

from dataclasses import dataclass, field

from ..kinds import KINDS
from ..kube.errors import FabricAPIError

__all__ = ('KindListing', 'list_kinds')

# A server that keeps answering with new continue tokens must not keep a sync busy forever.
MAX_PAGES = 10_000
# Nor may it fill memory with one kind: the largest Hedgehog fabrics hold a few ten thousand objects of a kind.
MAX_ITEMS = 200_000
# After this many read timeouts the API server is taken to be hung, and the remaining kinds are not tried.
MAX_TIMEOUTS = 2


@dataclass
class KindListing:
    info: object
    items: list = field(default_factory=list)
    not_installed: bool = False
    error: str = ''

    @property
    def listed(self):
        return not (self.not_installed or self.error)


def _page_items(body, info):
    """Check the shape of a list response and return its items and continue token."""
    where = f'while listing {info.kind} objects ({info.resource})'
    if not isinstance(body, dict):
        raise FabricAPIError(f'The Kubernetes API sent a malformed list {where}: not a JSON object.')
    items = body.get('items')
    if items is None:
        items = []
    if not isinstance(items, list):
        raise FabricAPIError(f'The Kubernetes API sent a malformed list {where}: "items" is not a list.')
    metadata = body.get('metadata') or {}
    token = metadata.get('continue') if isinstance(metadata, dict) else None
    if token is not None and not isinstance(token, str):
        raise FabricAPIError(f'The Kubernetes API sent a malformed list {where}: "continue" is not a string.')
    return items, token or None


def _listed_key(item):
    """(namespace, name) of a listed object, or None when it has none: the decoder reports that one."""
    metadata = item.get('metadata') if isinstance(item, dict) else None
    if not isinstance(metadata, dict) or not isinstance(metadata.get('name'), str):
        return None
    return metadata.get('namespace'), metadata['name']


def list_kind(api, info, namespace, page_size):
    """
    Every object of one kind, page by page. A list whose pages disagree (a repeated continue token, an object on
    two pages) is no snapshot of the cluster, so it fails as a whole rather than let a missing object look deleted.
    """
    listing = KindListing(info)
    token = None
    seen_tokens = set()
    seen_keys = set()
    for _ in range(MAX_PAGES):
        body = api.list_page(info, namespace, limit=page_size, continue_token=token)
        items, token = _page_items(body, info)
        for item in items:
            key = _listed_key(item)
            if key is not None and key in seen_keys:
                raise FabricAPIError(
                    f'The Kubernetes API listed {info.kind} {key[1][:253]!r} twice in one paged list; the list is '
                    'inconsistent.'
                )
            seen_keys.add(key)
        listing.items.extend(items)
        if len(listing.items) > MAX_ITEMS:
            raise FabricAPIError(
                f'The Kubernetes API listed more than {MAX_ITEMS} {info.kind} objects; the listing was abandoned.'
            )
        if token is None:
            return listing
        if token in seen_tokens:
            raise FabricAPIError(
                f'The Kubernetes API repeated a continue token while listing {info.kind} objects; the list never ends.'
            )
        seen_tokens.add(token)
    raise FabricAPIError(f'The Kubernetes API sent more than {MAX_PAGES} pages of {info.plural}.')


def list_kinds(api, namespace, page_size):
    """
    Return (listings, cluster_error): one KindListing per mirrored kind, and the message of a failure that ended
    the listing early (the server cannot be reached, rejects the credentials, or hangs), if any.

    Kinds that were not tried after such a failure carry that failure as their error, so none of them deletes.
    """
    listings = []
    timeouts = 0
    cluster_error = ''
    for info in KINDS:
        if cluster_error:
            listings.append(KindListing(info, error=cluster_error))
            continue
        try:
            listings.append(list_kind(api, info, namespace, page_size))
        except FabricAPIError as exc:
            if exc.status == 404:
                listings.append(KindListing(info, not_installed=True))
                continue
            listings.append(KindListing(info, error=str(exc)))
            timeouts += exc.timed_out
            if exc.cluster_wide or timeouts >= MAX_TIMEOUTS:
                cluster_error = str(exc)
    return listings, cluster_error
