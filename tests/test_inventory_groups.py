"""
Switch groups and redundancy groups in NetBox's inventory: one tag per group and fabric, owned like every inventory
object, on the devices of the group's switches beside "hedgehog" (docs/inventory.md). Built by real syncs from the
stand-in, as tests/test_inventory.py does.
"""

import pytest
from core.models import ObjectChange
from dcim.models import Device
from django.core.validators import validate_slug
from extras.models import Tag

from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.inventory.context import fabric_tag_name, fabric_tag_slug
from netbox_hedgehog.inventory.orphans import ORPHAN_DESCRIPTION
from netbox_hedgehog.models import InventoryObject
from netbox_hedgehog.sync import sync_fabric

from .inventory_fixtures import row_versions, run_sync, users_device

HEDGEHOG = 'hedgehog'
# Names a cluster may serve that NetBox's tags must still hold apart: too long for a tag, alike once cut or
# slugified, nothing a slug can keep, markup.
HOSTILE_GROUPS = (
    'g' * 253, 'g' * 252 + 'h', 'grüppe', 'gruppe', 'a b', 'a-b', 'a.b', '🙂', '🙃', '<b>x</b>',
)


def device_tags(name):
    return set(Device.objects.get(name=name).tags.names())


def group_tag(fabric, group):
    return Tag.objects.get(name=fabric_tag_name(fabric.name, group))


def tag_record(tag):
    return InventoryObject.objects.filter(object_type__model='tag', object_id=tag.pk)


def changed_counts(run):
    return {label: dict(counts) for label, counts in run.inventory_counts.items() if set(counts) != {'unchanged'}}


def test_a_switch_that_moves_groups_changes_only_its_devices_tags(inventory_fabric, inventory_standin):
    fabric = inventory_fabric
    run_sync(fabric)
    leaf = Device.objects.get(name='ds3000-03')
    leaf.tags.add('important')
    border, eslag_1, eslag_2 = (f'{fabric.name}/{group}' for group in ('border', 'eslag-1', 'eslag-2'))
    assert device_tags('ds3000-03') == {HEDGEHOG, 'important', border, eslag_1}

    # ds3000-03 leaves the border group and its ESLAG pair for the other pair.
    inventory_standin.patch('switches', 'ds3000-03', spec={'groups': [], 'redundancy': {'group': 'eslag-2'}})
    run = run_sync(fabric)
    assert device_tags('ds3000-03') == {HEDGEHOG, 'important', eslag_2}
    changes = ObjectChange.objects.filter(request_id=run.inventory_request_id)
    assert [(c.changed_object_type.model, c.object_repr, c.action) for c in changes] == [
        ('device', 'ds3000-03', 'update'),
    ]
    assert changes[0].prechange_data['tags'] == [border, eslag_1, HEDGEHOG, 'important']
    assert changes[0].postchange_data['tags'] == [eslag_2, HEDGEHOG, 'important']
    assert changed_counts(run) == {'dcim.device': {'updated': 1, 'unchanged': Device.objects.count() - 1}}
    # The groups stay, with their other members.
    assert device_tags('sse-c4632-01') == {HEDGEHOG, border, eslag_1}
    assert device_tags('ds3000-01') == {HEDGEHOG, eslag_2}

    before = row_versions()
    run = run_sync(fabric)
    assert row_versions() == before
    assert all(set(counts) == {'unchanged'} for counts in run.inventory_counts.values()), run.inventory_counts


@pytest.mark.parametrize('policy', ['delete', 'mark'])
def test_a_group_that_is_gone_follows_the_orphan_policy(inventory_fabric, inventory_standin, site, policy):
    fabric = inventory_fabric
    fabric.inventory_orphans = policy
    fabric.save()
    run_sync(fabric)
    border = group_tag(fabric, 'border')
    members = ('ds3000-03', 'sse-c4632-01')
    # Users tagged a device of their own with the group's tag.
    box = users_device(site)
    box.tags.add(border)

    # The group leaves the cluster, its switches first (Hedgehog refuses a switch naming a group that is gone).
    group = inventory_standin.get('switchgroups', 'border')
    for name in members:
        inventory_standin.patch('switches', name, spec={'groups': []})
    inventory_standin.delete('switchgroups', 'border')
    run = run_sync(fabric)
    for name in members:
        assert device_tags(name) == {HEDGEHOG, f'{fabric.name}/eslag-1'}
    assert run.inventory_counts['dcim.device']['updated'] == len(members)
    if policy == 'delete':
        assert not Tag.objects.filter(pk=border.pk).exists() and not tag_record(border).exists()
        assert run.inventory_counts['extras.tag'] == {'deleted': 1, 'unchanged': 2}
        assert not box.tags.exists()  # deleted with the tag, which was the fabric's
    else:
        kept = Tag.objects.get(pk=border.pk)
        assert kept.description == f'{ORPHAN_DESCRIPTION["extras.tag"]}Hedgehog switch group border'
        assert (kept.name, kept.slug) == (border.name, border.slug)
        assert tag_record(border).get().orphaned
        assert run.inventory_counts['extras.tag'] == {'marked': 1, 'unchanged': 2}
        assert list(box.tags.names()) == [border.name]
        # Marked once: the next run leaves it as it is.
        before = row_versions()
        run_sync(fabric)
        assert row_versions() == before

    # The group comes back, with its switches: its tag is theirs again.
    del group['metadata']['uid'], group['metadata']['resourceVersion']
    inventory_standin.upsert(group)
    for name in members:
        inventory_standin.patch('switches', name, spec={'groups': ['border']})
    run = run_sync(fabric)
    back = group_tag(fabric, 'border')
    assert back.description == 'Hedgehog switch group border'
    for name in members:
        assert device_tags(name) == {HEDGEHOG, back.name, f'{fabric.name}/eslag-1'}
    if policy == 'mark':
        assert back.pk == border.pk and not tag_record(back).get().orphaned
        assert run.inventory_counts['extras.tag'] == {'updated': 1, 'unchanged': 2}
        assert list(box.tags.names()) == [back.name]
    else:
        assert run.inventory_counts['extras.tag'] == {'created': 1, 'unchanged': 2}


def test_a_users_tag_with_a_groups_name_or_slug_is_a_conflict_until_adopted(inventory_fabric):
    fabric = inventory_fabric
    same_name = Tag.objects.create(name=f'{fabric.name}/border', slug='my-border', description='mine')
    same_slug = Tag.objects.create(name='my eslag', slug=fabric_tag_slug(fabric.name, 'eslag-1'), description='ours')
    run = sync_fabric(fabric.pk, 'manual')
    assert run.outcome == SyncOutcomeChoices.PARTIAL
    assert [(e['kind'], e['name']) for e in run.errors] == [
        ('SwitchGroup', f'{fabric.name}/border'), ('SwitchGroup', f'{fabric.name}/eslag-1'),
    ]
    assert f'NetBox already has the tag "{fabric.name}/border" (id {same_name.pk}), which this fabric did not ' \
        'create' in run.errors[0]['message']
    assert f'(id {same_slug.pk})' in run.errors[1]['message']
    assert run.inventory_counts['extras.tag'] == {'conflicts': 2, 'created': 1}
    # Left as the users made them, owned by nobody, and on none of the fabric's devices.
    for tag, fields in ((same_name, ('my-border', 'mine')), (same_slug, ('my eslag', 'ours'))):
        tag.refresh_from_db()
        assert (tag.slug if tag is same_name else tag.name, tag.description) == fields
        assert not tag_record(tag).exists()
        assert not tag.extras_taggeditem_items.exists()
    assert device_tags('ds3000-03') == {HEDGEHOG}
    assert device_tags('ds3000-01') == {HEDGEHOG, f'{fabric.name}/eslag-2'}
    # The next run reports them again, and writes nothing.
    before = row_versions()
    run = sync_fabric(fabric.pk, 'manual')
    assert len(run.errors) == 2 and run.inventory_counts['extras.tag']['conflicts'] == 2
    assert row_versions() == before

    # With "adopt existing", the next run takes them over.
    fabric.inventory_adopt_existing = True
    fabric.save()
    run = run_sync(fabric)
    assert run.errors == []
    assert run.inventory_counts['extras.tag'] == {'adopted': 2, 'unchanged': 1}
    same_name.refresh_from_db()
    same_slug.refresh_from_db()
    assert same_name.slug == fabric_tag_slug(fabric.name, 'border')
    assert same_name.description == 'Hedgehog switch group border'
    assert same_slug.name == f'{fabric.name}/eslag-1'
    assert same_slug.description == 'Hedgehog redundancy group eslag-1 (eslag)'
    assert tag_record(same_name).get().adopted and tag_record(same_slug).get().adopted
    assert device_tags('ds3000-03') == {HEDGEHOG, same_name.name, same_slug.name}


def test_hostile_group_names_are_tags_netbox_holds_apart(inventory_fabric, inventory_standin, make_user,
                                                         client_for):
    fabric = inventory_fabric
    for name in HOSTILE_GROUPS:
        inventory_standin.upsert({
            'apiVersion': 'wiring.githedgehog.com/v1beta1', 'kind': 'SwitchGroup',
            'metadata': {'name': name, 'namespace': 'default'}, 'spec': {},
        })
    inventory_standin.patch('switches', 'ds4000-01', spec={'groups': list(HOSTILE_GROUPS)})
    run = run_sync(fabric)
    assert run.errors == []
    tags = [group_tag(fabric, name) for name in HOSTILE_GROUPS]
    assert len({tag.pk for tag in tags}) == len({tag.slug for tag in tags}) == len(HOSTILE_GROUPS)
    for tag in tags:
        assert len(tag.name) <= 100 and len(tag.slug) <= 100
        validate_slug(tag.slug)
        tag.full_clean()
        assert tag_record(tag).get().kind == 'SwitchGroup'
    assert tags[0].name != tags[1].name and tags[0].name.startswith(f'{fabric.name}/ggg')
    assert Tag.objects.filter(name=f'{fabric.name}/grüppe').exists()
    assert device_tags('ds4000-01') == {HEDGEHOG, *(tag.name for tag in tags)}
    # The device page shows them, escaped.
    client = client_for(make_user('device-viewer', 'dcim.view_device', 'extras.view_tag'))
    response = client.get(Device.objects.get(name='ds4000-01').get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert '<b>x</b>' not in page and '&lt;b&gt;x&lt;/b&gt;' in page

    before = row_versions()
    run_sync(fabric)
    assert row_versions() == before


def test_tag_names_and_slugs_are_bounded_and_one_per_fabric_and_group():
    pairs = [(fabric, group) for fabric in ('fabric-1', 'fabric-1-a', 'Fabric 1', 'f' * 100)
             for group in dict.fromkeys(('a', 'a-b', 'b', *HOSTILE_GROUPS))]
    # "fabric-1" with "a-b" and "fabric-1-a" with "b" slugify alike, as do "a b" and "a-b".
    names = {fabric_tag_name(fabric, group) for fabric, group in pairs}
    slugs = {fabric_tag_slug(fabric, group) for fabric, group in pairs}
    assert len(names) == len(slugs) == len(pairs)
    assert all(len(name) <= 100 for name in names)
    for slug in slugs:
        assert len(slug) <= 100 and slug.isascii()
        validate_slug(slug)
    assert fabric_tag_name('fabric-1', 'border') == 'fabric-1/border'
    assert fabric_tag_slug('fabric-1', 'border').startswith('fabric-1-border-')
    # The same fabric and group always make the same tag.
    assert fabric_tag_slug('fabric-1', 'g' * 253) == fabric_tag_slug('fabric-1', 'g' * 253)
