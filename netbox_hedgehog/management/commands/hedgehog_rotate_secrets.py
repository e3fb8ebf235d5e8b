from django.core.management.base import CommandError
from django.db import transaction

from netbox_hedgehog.crypto import SecretUnreadable, unseal
from netbox_hedgehog.management.base import NonWebCommand
from netbox_hedgehog.models import HedgehogFabric
from netbox_hedgehog.models.fabric import SECRET_FIELDS


class Command(NonWebCommand):
    help = (
        "Re-encrypt every fabric's token and kubeconfig with the first key of the plugin setting secret_keys. Run it "
        'after putting a new key first; once it succeeds, the old keys can be removed. Nothing is written unless '
        'every secret could be decrypted.'
    )

    def handle(self, *args, **options):
        rewritten = 0
        unreadable = []
        with transaction.atomic():
            fabrics = HedgehogFabric.objects.select_for_update().only('pk', 'name', *SECRET_FIELDS)
            for fabric in fabrics:
                plaintexts = {}
                for field_name in SECRET_FIELDS:
                    try:
                        # A plain str is "entered": the field encrypts it with the first key as it is written.
                        plaintexts[field_name] = unseal(getattr(fabric, field_name))
                    except SecretUnreadable:
                        unreadable.append(f'{fabric.name} ({field_name})')
                if unreadable:
                    continue
                # A queryset update: a key rotation is no change a user made, so it leaves no change record.
                HedgehogFabric.objects.filter(pk=fabric.pk).update(**plaintexts)
                rewritten += 1
            if unreadable:
                # Raised inside the transaction: the rows already rewritten roll back.
                raise CommandError(
                    'No configured key decrypts: ' + ', '.join(unreadable) + '. Add the key they were stored with '
                    'to secret_keys (after the new first key), or re-enter these secrets. Nothing was changed.'
                )
        self.stdout.write(f'Re-encrypted the secrets of {rewritten} fabric(s) with the first key.')
