"""NetBox configuration for development, tests and the demo.

Every connection setting comes from an environment variable with a default that works on a stock developer
machine (PostgreSQL and Redis on 127.0.0.1, trust auth), so the same module serves `make run`, `make test`
and CI.
"""

import os

_env = os.environ.get

ALLOWED_HOSTS = ['*']

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': _env('HEDGEHOG_DB_NAME', 'netbox_hedgehog'),
        'USER': _env('HEDGEHOG_DB_USER', 'netbox_hedgehog'),
        'PASSWORD': _env('HEDGEHOG_DB_PASSWORD', ''),
        'HOST': _env('HEDGEHOG_DB_HOST', '127.0.0.1'),
        'PORT': _env('HEDGEHOG_DB_PORT', '5432'),
        'CONN_MAX_AGE': 300,
        'TEST': {
            # Tests clone a database that already holds NetBox's own migrations (see devtools/dbsetup.py);
            # only the plugin's migrations run per test session.
            'NAME': _env('HEDGEHOG_TEST_DB_NAME', 'test_netbox_hedgehog'),
            'TEMPLATE': _env('HEDGEHOG_TEMPLATE_DB_NAME', 'netbox_hedgehog_template'),
        },
    }
}


def _redis(database):
    return {
        'HOST': _env('HEDGEHOG_REDIS_HOST', '127.0.0.1'),
        'PORT': int(_env('HEDGEHOG_REDIS_PORT', '6379')),
        'USERNAME': '',
        'PASSWORD': _env('HEDGEHOG_REDIS_PASSWORD', ''),
        'DATABASE': database,
        'SSL': False,
    }


# Parallel test workers (`pytest -n`) each get a database of their own from pytest-django and a pair of Redis
# databases of their own here, so one worker's RQ queue and cache never see another's. The processes a test starts
# inherit the worker's environment and therefore its pair.
_TEST_WORKER = int(_env('PYTEST_XDIST_WORKER', 'gw0').removeprefix('gw') or 0)

REDIS = {
    'tasks': _redis(int(_env('HEDGEHOG_REDIS_TASKS_DB', '0')) + 2 * _TEST_WORKER),
    'caching': _redis(int(_env('HEDGEHOG_REDIS_CACHING_DB', '1')) + 2 * _TEST_WORKER),
}

SECRET_KEY = _env('HEDGEHOG_SECRET_KEY', 'netbox-hedgehog-development-key-not-for-production-use-0123456789')
API_TOKEN_PEPPERS = {1: _env('HEDGEHOG_API_TOKEN_PEPPER', 'netbox-hedgehog-development-pepper-not-for-production-use')}

DEBUG = _env('HEDGEHOG_DEBUG', '') == '1'
DEVELOPER = _env('HEDGEHOG_DEVELOPER', '') == '1'
TIME_ZONE = 'UTC'
DEFAULT_PERMISSIONS = {}

# The template database is migrated without the plugin so that plugin migrations can change freely during
# development; every other use loads the plugin.
PLUGINS = [] if _env('HEDGEHOG_WITHOUT_PLUGIN') == '1' else ['netbox_hedgehog']
PLUGINS_CONFIG = {
    'netbox_hedgehog': {
        # The Kubernetes API stand-in serves plain HTTP unless asked for TLS; development and tests use both.
        'allow_plain_http': True,
        # `make run ARGS='--executor rq'` sets it for every process it starts, so the pages agree with the scheduler.
        'sync_executor': _env('HEDGEHOG_SYNC_EXECUTOR', 'thread'),
    },
}

# A new user's home page: the plugin's fabrics first. NetBox's news feed is left out, as it needs the internet.
DEFAULT_DASHBOARD = [
    {'widget': 'netbox_hedgehog.FabricSyncWidget', 'width': 6, 'height': 4, 'title': 'Hedgehog fabrics'},
    {'widget': 'extras.BookmarksWidget', 'width': 6, 'height': 4, 'title': 'Bookmarks', 'color': 'orange'},
    {
        'widget': 'extras.ObjectListWidget',
        'width': 12,
        'height': 5,
        'title': 'Change Log',
        'color': 'blue',
        'config': {'model': 'core.objectchange', 'page_size': 25},
    },
]

LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'formatters': {
        'netbox': {'format': '%(asctime)s %(levelname)s %(name)s: %(message)s'},
    },
    'handlers': {
        'console': {'class': 'logging.StreamHandler', 'formatter': 'netbox'},
    },
    'loggers': {
        'netbox_hedgehog': {'handlers': ['console'], 'level': _env('HEDGEHOG_LOG_LEVEL', 'INFO')},
        'scheduler_worker': {'handlers': ['console'], 'level': _env('HEDGEHOG_LOG_LEVEL', 'INFO')},
    },
}
