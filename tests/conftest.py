"""
Shared fixtures. Settings come from NETBOX_CONFIGURATION=devtools.netbox_configuration (set by the Makefile).

Fixtures of one area live in their own module, registered here for every test module: the Kubernetes API
stand-in and fabrics on it (sync_fixtures), a fabric synced from it (mirror_fixtures), scheduler processes
(scheduler_harness), RQ workers (rq_harness).
"""

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from users.constants import TOKEN_PREFIX
from users.models import ObjectPermission, Token, User
from utilities.permissions import resolve_permission_type

from netbox_hedgehog.choices import SchedulerNoticeActionChoices
from netbox_hedgehog.models import HedgehogFabric, SchedulerHeartbeat, SchedulerNotice

pytest_plugins = (
    'tests.sync_fixtures', 'tests.mirror_fixtures', 'tests.inventory_fixtures', 'tests.scheduler_harness',
    'tests.rq_harness', 'tests.database_cleanup',
)

# The `fabric` fixture's token: no page, response or log may ever show it.
FABRIC_TOKEN = 'tok-fixture-5d2e-never-show-this'
# What a user needs to see a fabric's sync state, its runs and the scheduler.
VIEW_SYNC = (
    'netbox_hedgehog.view_hedgehogfabric',
    'netbox_hedgehog.view_syncrun',
    'netbox_hedgehog.view_schedulerheartbeat',
)
# A beat stamped ahead of now stays fresh however long a loaded machine takes to run the test.
FRESH_FOR = timedelta(minutes=10)


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


def graphql(client, text):
    """POST a GraphQL query with a REST client (api_client_for) and return the decoded answer."""
    response = client.post('/graphql/', json.dumps({'query': text}), content_type='application/json')
    assert response.status_code == 200, response.content
    return response.json()


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


@pytest.fixture
def client_for(db):
    """client_for(user) returns a browser-side test client logged in as that user."""

    def factory(user):
        client = Client()
        client.force_login(user)
        return client

    return factory


@pytest.fixture
def superuser(make_user):
    user = make_user('admin')
    user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def fabric(db):
    """A fabric with a server and a token that was never synced."""
    return HedgehogFabric.objects.create(
        name='live-fabric', kubernetes_server='https://10.0.0.7:6443', kubernetes_token=FABRIC_TOKEN, sync_interval=60
    )


@pytest.fixture
def leader(db):
    """A scheduler leader whose heartbeat is fresh."""
    now = timezone.now()
    return SchedulerHeartbeat.objects.create(
        instance_id='leader-1', hostname='sched-host', pid=4242, role='leader', started=now - timedelta(hours=1),
        last_beat=now + FRESH_FOR, version='0.1.0', job_count=1,
    )


@pytest.fixture
def sync_notices(db):
    """sync_notices(fabric): the "sync now" notices queued for the scheduler about that fabric."""

    def query(fabric):
        return SchedulerNotice.objects.filter(fabric_id=fabric.pk, action=SchedulerNoticeActionChoices.SYNC_NOW)

    return query
