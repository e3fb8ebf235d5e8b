from utilities.querysets import RestrictedQuerySet

__all__ = ('FabricScopedQuerySet',)


class FabricScopedQuerySet(RestrictedQuerySet):
    """
    Rows that belong to one fabric (sync runs, mirrored objects): a user sees one only when the object permission
    on its own model allows it AND the user may view its fabric. NetBox restricts every path through restrict():
    list and detail views, REST viewsets, GraphQL types and global search, so this is the one place it is enforced.
    """

    def restrict(self, user, action='view'):
        queryset = super().restrict(user, action)
        if user is not None and user.is_active and user.is_superuser:
            return queryset
        from .fabric import HedgehogFabric

        return queryset.filter(fabric__in=HedgehogFabric.objects.restrict(user, 'view').values('pk'))
