"""Agent objects (agent.githedgehog.com/v1beta1) as the fabric controller creates them: one per Switch, same name.

Used by the synthetic fabric and, via `python -m k8s_standin.agents`, to (re)generate the fixture
samples/90_generated_agents.yaml from the Switches of sample 01. The status looks like a live agent's (heartbeat,
applied generation, NOS facts, interfaces, BGP neighbours); the spec carries the secrets a real Agent holds
(`users` with password hashes, `version` with registry credentials), all fake, so tests can prove that a mirror
never copies them. Everything is derived from the switch and its index, so output is deterministic for a `now`.
"""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from k8s_standin.manifests import SAMPLE_DIR, load_manifests

AGENT_API_VERSION = 'agent.githedgehog.com/v1beta1'
AGENT_VERSION = 'v0.96.2'
SONIC_VERSION = 'Enterprise_SONiC_OS_4.4.2_Enterprise_Base'
FIXTURE = SAMPLE_DIR / '90_generated_agents.yaml'
FIXTURE_SOURCE = SAMPLE_DIR / '01_lab-ci_env-ci-1_wiring.yaml'
FIXTURE_TIME = datetime(2026, 8, 10, 9, 30, tzinfo=UTC)
_UID_NAMESPACE = uuid.UUID('2f1a4a52-8d3c-4b8e-9a57-6f0c1d2e3b4a')

# profile → (mfgName, platformName, hwskuVersion, asicVersion)
_PLATFORMS = {
    'celestica-ds3000': ('Celestica', 'x86_64-cel_seastone_2-r0', 'DS3000', 'broadcom'),
    'celestica-ds4000': ('Celestica', 'x86_64-cel_silverstone-r0', 'DS4000', 'broadcom'),
    'supermicro-sse-c4632sb': ('Supermicro', 'x86_64-supermicro_sse_c4632sb-r0', 'SSE-C4632SB', 'broadcom'),
    'dell-s5248f-on': ('Dell EMC', 'x86_64-dellemc_s5248f_c3538-r0', 'DellEMC-S5248f-P-25G', 'broadcom'),
}
_GENERIC_PLATFORM = ('Celestica', 'x86_64-cel_seastone_2-r0', 'DS3000', 'broadcom')
# Clearly fake secrets, in the shapes real Agents carry them.
FAKE_PASSWORD_HASH = '$5$fakesalt$FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFA.'
FAKE_SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE admin'
FAKE_CA = '-----BEGIN CERTIFICATE-----\nRkFLRSBSRUdJU1RSWSBDQSBGT1IgVEVTVFMgT05MWQ==\n-----END CERTIFICATE-----\n'


def _time(moment: datetime) -> str:
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def _mac(index: int, port: int) -> str:
    return '0c:20:12:{:02x}:{:02x}:{:02x}'.format((index >> 8) & 0xFF, index & 0xFF, port & 0xFF)


def _interfaces(index: int, moment: datetime) -> dict:
    interfaces = {}
    for port in range(1, 5):
        up = (index + port) % 4 != 0  # one port in four is down, a different one on each switch
        interfaces[f'E1/{port}'] = {
            'enabled': True,
            'admin': 'up',
            'oper': 'up' if up else 'down',
            'mac': _mac(index, port),
            'speed': '25G',
            'auto': False,
            'fec': 'rs',
            'change': _time(moment - timedelta(hours=2 + port)),
            'counters': {
                'inb': 10_000_000 * port + index,
                'outb': 9_000_000 * port + index,
                'ine': 0,
                'oute': 0,
                'ind': port % 2,
                'outd': 0,
            }
            if up
            else {},
        }
    interfaces['M1'] = {'enabled': True, 'admin': 'up', 'oper': 'up', 'mac': _mac(index, 0), 'speed': '1G'}
    return interfaces


def _bgp_neighbors(index: int, local_as: int, moment: datetime) -> dict:
    neighbors = {}
    for peer in range(2):
        address = f'172.30.{128 + index // 64}.{(index % 64) * 4 + peer * 2 + 1}'
        established = peer == 0 or index % 3 != 2
        neighbor = {
            'enabled': True,
            'localAS': local_as,
            'peerAS': 65100 if local_as != 65100 else 65101 + peer,
            'peerType': 'external',
            'peerGroup': 'fabric',
            'state': 'established' if established else 'idle',
            'remoteRouterID': f'172.30.8.{peer + 1}',
            'estabTrans': 1 + peer,
            'connDropped': 0 if established else 3,
        }
        if established:
            neighbor['lastEstab'] = _time(moment - timedelta(hours=5, minutes=peer))
            neighbor['prefixes'] = {'l2vpn-evpn': {'rec': 40 + index % 9, 'recPre': 40 + index % 9, 'sent': 12}}
        else:
            neighbor['lastReset'] = _time(moment - timedelta(minutes=7))
            neighbor['lastResetReason'] = 'Waiting for peer OPEN'
        neighbors[address] = neighbor
    return {'default': neighbors}


def agent_for_switch(switch: dict, index: int, now: datetime) -> dict:
    """The Agent the controller keeps for `switch` (the index-th switch), as it would look at time `now`."""
    name = switch['metadata']['name']
    namespace = switch['metadata'].get('namespace') or 'default'
    spec = switch.get('spec') or {}
    profile = spec.get('profile', '')
    manufacturer, platform, hwsku, asic = _PLATFORMS.get(profile, _GENERIC_PLATFORM)
    local_as = spec.get('asn') or (65100 if spec.get('role') == 'spine' else 65101 + index)

    generation = 2 + index % 3
    pending = index % 5 == 4  # some agents have not applied their latest configuration yet
    stale = index % 7 == 6  # and some stopped sending heartbeats
    applied_at = now - timedelta(minutes=30 + index % 11)
    attempt_at = now - timedelta(seconds=20) if pending else applied_at
    lifecycle = uuid.uuid5(_UID_NAMESPACE, name)

    labels = {'fabric.githedgehog.com/profile': profile} if profile else {}
    annotations = {
        key: value for key, value in (switch['metadata'].get('annotations') or {}).items() if 'githedgehog.com/' in key
    }
    metadata = {'name': name, 'namespace': namespace, 'generation': generation}
    if labels:
        metadata['labels'] = labels
    if annotations:
        metadata['annotations'] = annotations
    return {
        'apiVersion': AGENT_API_VERSION,
        'kind': 'Agent',
        'metadata': metadata,
        'spec': {
            'role': spec.get('role'),
            'description': spec.get('description', ''),
            'switch': spec,
            'version': {
                'default': AGENT_VERSION,
                'repo': 'ghcr.io/githedgehog/agent',
                'ca': FAKE_CA,
                'username': 'fabric-agent-reader',
                'password': f'fake-registry-password-{index:04d}',
            },
            'users': [
                {'name': 'admin', 'password': FAKE_PASSWORD_HASH, 'role': 'admin', 'sshKeys': [FAKE_SSH_KEY]},
                {'name': 'op', 'password': FAKE_PASSWORD_HASH, 'role': 'operator', 'sshKeys': []},
            ],
        },
        'status': {
            'lastHeartbeat': _time(now - (timedelta(minutes=10) if stale else timedelta(seconds=3 + index % 12))),
            'lastAttemptGen': generation,
            'lastAttemptTime': _time(attempt_at),
            'lastAppliedGen': generation - 1 if pending else generation,
            'lastAppliedTime': _time(applied_at),
            'version': AGENT_VERSION,
            'installID': str(lifecycle),
            'runID': str(uuid.uuid5(lifecycle, 'run')),
            'bootID': str(uuid.uuid5(lifecycle, 'boot')),
            'rebootRequired': False,
            'conditions': [
                {
                    'type': 'Applied',
                    'status': 'False' if pending else 'True',
                    'reason': 'ApplyPending' if pending else 'ApplySucceeded',
                    'message': f'Config will be applied, gen={generation}'
                    if pending
                    else f'Config applied, gen={generation}',
                    'lastTransitionTime': _time(attempt_at),
                }
            ],
            'state': {
                'nos': {
                    'asicVersion': asic,
                    'hwskuVersion': hwsku,
                    'platformName': platform,
                    'mfgName': manufacturer,
                    'productDescription': f'Enterprise SONiC Distribution by Broadcom - {hwsku}',
                    'serialNumber': (spec.get('boot') or {}).get('serial') or f'SYN{index:08d}',
                    'softwareVersion': SONIC_VERSION,
                    'kernelVersion': '5.10.0-21-2-amd64',
                    'buildDate': 'Tue Apr 15 11:02:19 PM UTC 2025',
                    'uptime': f'{(index % 40) + 1} days, {index % 24:02d}:17',
                },
                'interfaces': _interfaces(index, now),
                'bgpNeighbors': _bgp_neighbors(index, local_as, now),
            },
        },
    }


FIXTURE_HEADER = """\
# GENERATED by the netbox-hedgehog project (not upstream): `python -m k8s_standin.agents` writes this file.
# One agent.githedgehog.com/v1beta1 Agent per Switch of 01_lab-ci_env-ci-1_wiring.yaml, with a realistic status.
# spec.users and spec.version carry FAKE secrets on purpose: a NetBox mirror must never copy them.
"""


def write_fixture(path: Path = FIXTURE):
    switches = [obj for obj in load_manifests([FIXTURE_SOURCE]) if obj.get('kind') == 'Switch']
    agents = [agent_for_switch(switch, index, FIXTURE_TIME) for index, switch in enumerate(switches)]
    path.write_text(FIXTURE_HEADER + yaml.safe_dump_all(agents, sort_keys=False, explicit_start=True, width=1000))


if __name__ == '__main__':
    write_fixture()
    print(f'wrote {FIXTURE}')
