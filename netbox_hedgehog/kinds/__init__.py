"""
The registry of mirrored Hedgehog kinds: one declaration per kind (declarations.py), from which the sync, the
Kubernetes client and every page, API and menu entry of the mirror are derived.

KINDS is in sync order (kinds others refer to first); MENU_ORDER is the same kinds as the menu and the fabric page
list them.
"""

from .declarations import KINDS
from .registry import HEALTH, MENU_GROUPS, VPC, WIRING, Kind, Related, Relation, check_declarations, check_models

__all__ = (
    'HEALTH',
    'HEDGEHOG_GROUPS',
    'KINDS',
    'MENU_ORDER',
    'VPC',
    'WIRING',
    'Kind',
    'Related',
    'Relation',
    'check_models',
    'kind_of',
)

check_declarations(KINDS)

# {group: version} of every API group the mirror reads.
HEDGEHOG_GROUPS = {kind.group: kind.version for kind in KINDS}

MENU_ORDER = tuple(sorted(KINDS, key=lambda kind: (MENU_GROUPS.index(kind.menu_group), kind.menu_position)))

_BY_MODEL_NAME = {kind.model_name: kind for kind in KINDS}


def kind_of(model):
    """The declaration of a mirrored model."""
    return _BY_MODEL_NAME[model.__name__]
