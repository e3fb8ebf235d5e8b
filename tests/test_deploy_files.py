"""
The deployment files are valid and point at real commands of this project.

No container engine and no systemd run here, so the files are checked the way their tools would read them:
compose.yaml against the Compose Specification schema (the copy shipped by the check-jsonschema package), the
systemd unit with `systemd-analyze verify`, and every command they start against this project's own commands.
"""

import configparser
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import netbox
import pytest
import yaml
from django.core.management import get_commands, load_command_class

from netbox_hedgehog import HedgehogConfig
from netbox_hedgehog.kinds import KINDS
from netbox_hedgehog.sync.queued import QUEUE_NAME

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / 'compose.yaml'
DOCKERFILE = REPO / 'Dockerfile'
DOCKER_PLUGIN_CONFIG = REPO / 'docker' / 'config' / 'plugins.py'
NETBOX_ENV_EXAMPLE = REPO / 'env' / 'netbox.env.example'
SCHEDULER_UNIT = REPO / 'contrib' / 'netbox-hedgehog-scheduler.service'
WORKER_UNIT = REPO / 'contrib' / 'netbox-hedgehog-worker@.service'
NETBOX_RQ_UNIT = Path(netbox.__file__).parent / '_data' / 'contrib' / 'netbox-rq.service'
RBAC_MANIFEST = REPO / 'contrib' / 'hedgehog-rbac.yaml'

MANAGE_PY = ['/opt/netbox/venv/bin/python', '/opt/netbox/netbox/manage.py']
SHUTDOWN_GRACE_PERIOD = HedgehogConfig.default_settings['scheduler_shutdown_grace_period']


def seconds(duration):
    """A compose duration such as '1m30s' or '45s' in seconds."""
    units = {'h': 3600, 'm': 60, 's': 1}
    parts = re.findall(r'(\d+)([hms])', duration)
    assert parts and ''.join(f'{n}{u}' for n, u in parts) == duration, f'unsupported duration {duration!r}'
    return sum(int(number) * units[unit] for number, unit in parts)


def management_command(argv):
    """Parse a manage.py command line with the real command's parser; fails if the command does not exist."""
    name, *options = argv
    commands = get_commands()
    if name not in commands:
        pytest.fail(f'{name} is not a management command of this NetBox')
    command = load_command_class(commands[name], name)
    command.create_parser('manage.py', name).parse_args(options)
    return name


@pytest.fixture(scope='module')
def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope='module')
def services(compose):
    return compose['services']


class TestCompose:
    def test_valid_against_the_compose_specification(self):
        if importlib.util.find_spec('check_jsonschema') is None:
            pytest.fail('check-jsonschema (the Compose schema validator) is missing from the dev extra')
        result = subprocess.run(
            [sys.executable, '-m', 'check_jsonschema', '--builtin-schema', 'vendor.compose-spec', str(COMPOSE_FILE)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_has_the_documented_services(self, services):
        assert set(services) == {
            'postgres',
            'redis',
            'netbox',
            'netbox-worker',
            'hedgehog-scheduler',
            'hedgehog-scheduler-standby',
            'hedgehog-worker',
        }

    def test_dependencies_name_real_services(self, services):
        for name, service in services.items():
            for dependency in service.get('depends_on', {}):
                assert dependency in services, f'{name} depends on unknown service {dependency}'

    def test_netbox_services_use_the_image_built_from_this_repository(self, services):
        for name in ('netbox', 'netbox-worker', 'hedgehog-scheduler', 'hedgehog-scheduler-standby', 'hedgehog-worker'):
            assert services[name]['build']['context'] == '.', name
            assert services[name]['image'] == services['netbox']['image'], name

    def test_worker_runs_netbox_rq_queues(self, services):
        command = services['netbox-worker']['command']
        assert command[:2] == MANAGE_PY
        assert management_command(command[2:]) == 'rqworker'

    def test_hedgehog_worker_serves_only_the_plugin_queue_and_scales(self, services, settings):
        service = services['hedgehog-worker']
        assert service['command'][:2] == MANAGE_PY
        assert management_command(service['command'][2:]) == 'rqworker'
        assert service['command'][3:] == [QUEUE_NAME]
        assert QUEUE_NAME in settings.RQ_QUEUES
        # --scale needs a service without a fixed container name or published port.
        assert 'container_name' not in service and 'ports' not in service
        assert service['restart'] == 'unless-stopped'
        # NetBox's own worker does not take the syncs, so they never delay NetBox's jobs.
        assert QUEUE_NAME not in services['netbox-worker']['command']

    def test_env_example_shows_the_executor_setting(self):
        assert re.search(r'^# NETBOX_HEDGEHOG_SYNC_EXECUTOR=thread$', NETBOX_ENV_EXAMPLE.read_text(), re.MULTILINE)

    def test_scheduler_command_and_health_check_are_real(self, services):
        for name in ('hedgehog-scheduler', 'hedgehog-scheduler-standby'):
            service = services[name]
            assert service['command'][:2] == MANAGE_PY
            assert management_command(service['command'][2:]) == 'hedgehog_scheduler'
            check = service['healthcheck']['test']
            assert check[0] == 'CMD' and check[1:3] == MANAGE_PY
            assert check[3:] == ['hedgehog_scheduler', '--check']
            management_command(check[3:])

    def test_scheduler_is_restarted_and_stops_gracefully(self, services):
        for name in ('hedgehog-scheduler', 'hedgehog-scheduler-standby'):
            service = services[name]
            assert service['restart'] == 'unless-stopped'
            assert service['stop_signal'] == 'SIGTERM'
            assert seconds(service['stop_grace_period']) > SHUTDOWN_GRACE_PERIOD

    def test_standby_scheduler_only_in_the_ha_profile(self, services):
        assert services['hedgehog-scheduler-standby']['profiles'] == ['ha']
        assert all('profiles' not in service for name, service in services.items() if 'standby' not in name)

    def test_every_env_file_has_a_committed_example(self, services):
        for name, service in services.items():
            env_files = service.get('env_file', [])
            for env_file in [env_files] if isinstance(env_files, str) else env_files:
                example = REPO / f'{env_file}.example'
                assert example.is_file(), f'{name}: {env_file} has no example {example.name}'


class TestDockerfile:
    def test_extends_the_official_netbox_47_image(self):
        text = DOCKERFILE.read_text()
        assert re.search(r'^ARG NETBOX_IMAGE=docker\.io/netboxcommunity/netbox:v4\.7\b', text, re.MULTILINE)
        assert re.search(r'^FROM \$\{NETBOX_IMAGE\}$', text, re.MULTILINE)

    def test_copies_only_files_that_exist(self):
        for line in DOCKERFILE.read_text().splitlines():
            if line.startswith('COPY '):
                *sources, _destination = line.split()[1:]
                for source in sources:
                    assert (REPO / source).exists(), f'Dockerfile copies missing {source}'


def load_docker_plugin_config(monkeypatch, **environment):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location('docker_plugin_config', DOCKER_PLUGIN_CONFIG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestDockerPluginConfig:
    def test_enables_the_plugin_with_defaults(self, monkeypatch):
        config = load_docker_plugin_config(monkeypatch)
        assert config.PLUGINS == ['netbox_hedgehog']
        assert set(config.PLUGINS_CONFIG['netbox_hedgehog']) <= set(HedgehogConfig.default_settings)

    def test_passes_plugin_settings_through_from_the_environment(self, monkeypatch):
        config = load_docker_plugin_config(
            monkeypatch,
            NETBOX_HEDGEHOG_SCHEDULER_THREAD_POOL_SIZE='8',
            NETBOX_HEDGEHOG_KUBERNETES_READ_TIMEOUT='12.5',
        )
        settings = config.PLUGINS_CONFIG['netbox_hedgehog']
        assert settings['scheduler_thread_pool_size'] == 8
        assert settings['kubernetes_read_timeout'] == 12.5

    def test_env_example_names_only_real_plugin_settings(self):
        names = re.findall(r'^#?\s*NETBOX_HEDGEHOG_([A-Z0-9_]+)=', NETBOX_ENV_EXAMPLE.read_text(), re.MULTILINE)
        assert names
        for name in names:
            assert name.lower() in HedgehogConfig.default_settings, f'NETBOX_HEDGEHOG_{name} is not a plugin setting'


def read_unit(path):
    # systemd units are INI-like; none of the keys checked here repeats, so configparser reads them faithfully.
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


class TestSystemdUnit:
    def test_runs_the_scheduler_like_netbox_runs_its_rq_worker(self):
        unit, netbox_rq = read_unit(SCHEDULER_UNIT)['Service'], read_unit(NETBOX_RQ_UNIT)['Service']
        for key in ('Type', 'User', 'Group', 'WorkingDirectory'):
            assert unit[key] == netbox_rq[key], key
        interpreter, manage_py, *command = unit['ExecStart'].split()
        rq_interpreter, rq_manage_py, *_ = netbox_rq['ExecStart'].split()
        assert (interpreter, manage_py) == (rq_interpreter, rq_manage_py)
        assert management_command(command) == 'hedgehog_scheduler'

    def test_restarts_on_failure_and_stops_gracefully(self):
        unit = read_unit(SCHEDULER_UNIT)
        assert unit['Service']['Restart'] == 'on-failure'
        assert unit['Service']['KillSignal'] == 'SIGTERM'
        assert int(unit['Service']['TimeoutStopSec']) > SHUTDOWN_GRACE_PERIOD
        assert unit['Install']['WantedBy'] == 'multi-user.target'

    @pytest.mark.parametrize('path', [SCHEDULER_UNIT, WORKER_UNIT], ids=['scheduler', 'worker'])
    def test_systemd_accepts_the_unit(self, path):
        # A prerequisite (devtools/prerequisites.sh installs it), not a reason to skip the check unnoticed.
        assert shutil.which('systemd-analyze'), 'systemd-analyze is missing: run devtools/prerequisites.sh test'
        # A template unit is verified as its instance "@i", which is enough to load every setting.
        result = subprocess.run(['systemd-analyze', 'verify', '--man=no', str(path)], capture_output=True, text=True)
        # NetBox's venv does not exist on a development machine; every other complaint is a real error.
        missing_venv = re.compile(r'Command /opt/netbox/venv/\S+ is not executable')
        complaints = [
            line for line in result.stderr.splitlines() if line.strip() and not missing_venv.search(line)
        ]
        assert not complaints, '\n'.join(complaints)


class TestWorkerUnit:
    def test_runs_an_rq_worker_on_the_plugin_queue_like_netbox_runs_its_own(self):
        unit, netbox_rq = read_unit(WORKER_UNIT)['Service'], read_unit(NETBOX_RQ_UNIT)['Service']
        for key in ('Type', 'User', 'Group', 'WorkingDirectory'):
            assert unit[key] == netbox_rq[key], key
        interpreter, manage_py, *command = unit['ExecStart'].split()
        rq_interpreter, rq_manage_py, *_ = netbox_rq['ExecStart'].split()
        assert (interpreter, manage_py) == (rq_interpreter, rq_manage_py)
        assert management_command(command) == 'rqworker'
        assert command[1:] == [QUEUE_NAME]

    def test_restarts_on_failure_and_stops_gracefully(self):
        unit = read_unit(WORKER_UNIT)
        assert unit['Service']['Restart'] == 'on-failure'
        assert unit['Service']['KillSignal'] == 'SIGTERM'
        assert unit['Install']['WantedBy'] == 'multi-user.target'


class TestRbacManifest:
    @pytest.fixture(scope='class')
    def documents(self):
        return {document['kind']: document for document in yaml.safe_load_all(RBAC_MANIFEST.read_text())}

    def test_has_account_role_binding_and_token(self, documents):
        assert set(documents) == {'ServiceAccount', 'Role', 'RoleBinding', 'Secret'}

    def test_grants_only_get_and_list_on_the_mirrored_resources_of_one_namespace(self, documents):
        role = documents['Role']
        assert role['metadata']['namespace'] == 'default'
        granted = set()
        for rule in role['rules']:
            assert sorted(rule['verbs']) == ['get', 'list']
            assert '*' not in rule['resources'] and '*' not in rule['apiGroups']
            granted.update((group, resource) for group in rule['apiGroups'] for resource in rule['resources'])
        # Exactly the kinds the mirror reads: no 403 for a fabric made from this manifest, and nothing more.
        assert granted == {(kind.group, kind.plural) for kind in KINDS}

    def test_binding_and_token_belong_to_the_service_account(self, documents):
        account = documents['ServiceAccount']['metadata']
        binding = documents['RoleBinding']
        assert binding['metadata']['namespace'] == account['namespace']
        assert binding['roleRef'] == {
            'apiGroup': 'rbac.authorization.k8s.io',
            'kind': 'Role',
            'name': documents['Role']['metadata']['name'],
        }
        assert binding['subjects'] == [
            {'kind': 'ServiceAccount', 'name': account['name'], 'namespace': account['namespace']}
        ]
        secret = documents['Secret']
        assert secret['type'] == 'kubernetes.io/service-account-token'
        assert secret['metadata']['annotations']['kubernetes.io/service-account.name'] == account['name']
        assert secret['metadata']['namespace'] == account['namespace']


class TestConfigurationReference:
    @pytest.mark.parametrize('document', ['README.md', 'docs/configuration.md'])
    def test_documents_every_plugin_setting_with_its_default(self, document):
        rows = dict(re.findall(r'^\| `(\w+)` \| `([^`]*)` \|', (REPO / document).read_text(), re.M))
        plugin_rows = {key: value for key, value in rows.items() if key.islower()}
        assert set(plugin_rows) == set(HedgehogConfig.default_settings)
        for key, default in HedgehogConfig.default_settings.items():
            assert plugin_rows[key] == repr(default), f'{document} gives {key} the default {plugin_rows[key]}'
