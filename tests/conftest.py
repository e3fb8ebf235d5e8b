"""Shared fixtures. Settings come from NETBOX_CONFIGURATION=devtools.netbox_configuration (set by the Makefile)."""

import pytest
from django.apps import apps
from rest_framework.test import APIClient
from users.constants import TOKEN_PREFIX
from users.models import ObjectPermission, Token, User
from utilities.permissions import resolve_permission_type


def pytest_configure(config):
    # NetBox only warns and starts without a plugin whose version bounds do not match; fail loudly instead.
    if not apps.is_installed('netbox_hedgehog'):
        raise pytest.UsageError('netbox_hedgehog is not loaded into NetBox; check PLUGINS and min_version')


def grant(user, *names, constraints=None):
    """Give a user NetBox object permissions named <app>.<action>_<model>."""
    for name in names:
        object_type, action = resolve_permission_type(name)
        permission = ObjectPermission.objects.create(name=f'{user.username} {name}', actions=[action],
                                                     constraints=constraints)
        permission.users.add(user)
        permission.object_types.add(object_type)


@pytest.fixture
def make_user(db):
    """make_user('alice', 'netbox_hedgehog.view_hedgehogfabric', ...) returns a user holding those permissions."""

    def factory(username, *permissions, constraints=None):
        user = User.objects.create_user(username=username, password='correct-horse-battery-staple-1')
        grant(user, *permissions, constraints=constraints)
        return user

    return factory


@pytest.fixture
def api_client_for(db):
    """api_client_for(user) returns a REST client authenticated with a fresh v2 token of that user."""

    def factory(user):
        token = Token.objects.create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f'Bearer {TOKEN_PREFIX}{token.key}.{token.token}')
        return client

    return factory
