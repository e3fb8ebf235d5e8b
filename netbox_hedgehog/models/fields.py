from django.db import models

from ..crypto import Sealed, is_entered, seal

__all__ = ('EncryptedTextField',)


class EncryptedTextField(models.TextField):
    """
    Text stored encrypted (see crypto.py). Reading gives a `Sealed` ciphertext; assigning a plain `str` means a
    secret was entered, and it is encrypted as the row is written (save, update, bulk writes alike).
    """

    def from_db_value(self, value, expression, connection):
        return Sealed(value) if value else value

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if is_entered(value):
            # Plain text leaves the instance as soon as it is saved.
            value = seal(value)
            setattr(model_instance, self.attname, value)
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return seal(value) if is_entered(value) else value
