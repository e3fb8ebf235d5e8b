"""Who may run a sync or test a fabric's connection: the dedicated `sync` permission, or `change` on the fabric."""

__all__ = ('FABRIC_ACTION_PERMISSIONS', 'may_act_on_fabric')

# Either one suffices: whoever may change a fabric's connection may also try it out.
FABRIC_ACTION_PERMISSIONS = (
    'netbox_hedgehog.sync_hedgehogfabric',
    'netbox_hedgehog.change_hedgehogfabric',
)


def may_act_on_fabric(user, fabric=None):
    """
    Without a fabric: whether the user may act on any fabric at all (the model-level check NetBox makes before it
    looks at objects). With one: whether an object permission, constraints included, covers that fabric.
    """
    return any(user.has_perm(permission, fabric) for permission in FABRIC_ACTION_PERMISSIONS)
