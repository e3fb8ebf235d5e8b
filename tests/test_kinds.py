"""The kind registry: every declared kind is complete, and an incomplete one is named at once."""

import dataclasses

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from k8s_standin.manifests import CRD_DIR, load_manifests, sample_paths
from netbox_hedgehog.kinds import KINDS, MENU_ORDER, check_models, kind_of
from netbox_hedgehog.kinds.registry import check_declarations
from netbox_hedgehog.sync.resources import read_object

KIND_IDS = [pytest.param(kind, id=kind.kind) for kind in KINDS]

# Fields of a mirror row the sync never reads from a listed object.
NOT_READ = {'id', 'fabric', 'created', 'last_updated', 'custom_field_data'}

# Kinds the sample wiring does not hold, written as Hedgehog's webhook admits them.
EXTRA_OBJECTS = [
    {'apiVersion': 'wiring.githedgehog.com/v1beta1', 'kind': 'SwitchProfile',
     'metadata': {'name': 'dell-s5248f-on', 'namespace': 'default', 'uid': 'u-sp', 'resourceVersion': '1'},
     'spec': {'displayName': 'Dell S5248F-ON', 'nosType': 'sonic-bcm-enterprise', 'platform': 'x86_64-dellemc'}},
    {'apiVersion': 'wiring.githedgehog.com/v1beta1', 'kind': 'ServerProfile',
     'metadata': {'name': 'default', 'namespace': 'default', 'uid': 'u-srvp', 'resourceVersion': '1'}},
]


def test_every_declared_kind_is_complete():
    check_declarations(KINDS)
    check_models(KINDS)


@pytest.mark.parametrize('kind', KIND_IDS)
def test_every_kind_is_served_by_the_standin_as_declared(kind):
    """The stand-in's fixtures hold Hedgehog's CRD of every declared kind, with the same group, version and plural."""
    crd = yaml.safe_load((CRD_DIR / f'{kind.group}_{kind.plural}.yaml').read_text())
    assert crd['spec']['group'] == kind.group
    assert crd['spec']['names']['kind'] == kind.kind
    assert crd['spec']['names']['plural'] == kind.plural
    assert kind.version in [version['name'] for version in crd['spec']['versions']]


def sample_objects():
    objects = {}
    for item in [*load_manifests(sample_paths()), *EXTRA_OBJECTS]:
        item.setdefault('metadata', {}).setdefault('uid', f'uid-{len(objects)}')
        item['metadata'].setdefault('resourceVersion', '1')
        objects.setdefault(item['kind'], item)
    return objects


@pytest.mark.parametrize('kind', KIND_IDS)
def test_every_kind_reads_exactly_the_fields_of_its_model(kind):
    """What a listed object is read into fills every column of the model but the relations, and nothing else."""
    item = sample_objects()[kind.kind]
    values = read_object(kind, item, 'default').values
    relations = {name for name in kind.references if not kind.model._meta.get_field(name).many_to_many}
    columns = {f.name for f in kind.model._meta.concrete_fields} - NOT_READ - relations
    assert set(values) == columns


def test_kinds_are_found_by_model_and_listed_in_menu_order():
    assert all(kind_of(kind.model) is kind for kind in KINDS)
    assert [kind.kind for kind in MENU_ORDER][:3] == ['Switch', 'Server', 'Connection']
    assert sorted(MENU_ORDER, key=KINDS.index) == list(KINDS)


def test_a_kind_that_refers_to_a_later_kind_is_named():
    switch = next(kind for kind in KINDS if kind.kind == 'Switch')
    reordered = (switch, *(kind for kind in KINDS if kind is not switch))
    with pytest.raises(ImproperlyConfigured, match='Switch refers to SwitchProfile, which is declared after it'):
        check_models(reordered)


def test_a_missing_reference_is_named():
    server = next(kind for kind in KINDS if kind.kind == 'Server')
    broken = dataclasses.replace(server, references={})
    kinds = tuple(broken if kind is server else kind for kind in KINDS)
    with pytest.raises(ImproperlyConfigured, match='Server.profile relates to a mirrored kind'):
        check_models(kinds)


def test_a_kind_without_a_model_or_presentation_is_named():
    ghost = dataclasses.replace(KINDS[0], kind='Ghost', plural='ghosts', name='', slug='ghosts')
    with pytest.raises(ImproperlyConfigured, match='Ghost declares no name'):
        check_declarations((*KINDS, ghost))
    ghost = dataclasses.replace(ghost, name='ghost', menu_position=99)
    with pytest.raises(ImproperlyConfigured, match='Ghost has no model'):
        check_models((*KINDS, ghost))


def test_a_model_without_a_kind_is_named():
    with pytest.raises(ImproperlyConfigured, match='the model Agent is mirrored but declares no kind'):
        check_models(KINDS[:-1])
