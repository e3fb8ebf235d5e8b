from netbox.api.authentication import TokenPermissions
from users.models import Token

from ..permissions import may_act_on_fabric

__all__ = ('FabricActionPermission',)


class FabricActionPermission(TokenPermissions):
    """
    The sync and test-connection actions: `sync` or `change` on fabrics instead of the `add` a POST otherwise needs.
    A token must still allow writes; the action itself checks the permission against the one fabric.
    """

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        if isinstance(request.auth, Token) and not self._verify_write_permission(request):
            return False
        return may_act_on_fabric(request.user)
