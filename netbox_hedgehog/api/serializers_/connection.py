from rest_framework import serializers

__all__ = ('ConnectionReportSerializer', 'KindAccessSerializer')


class KindAccessSerializer(serializers.Serializer):
    kind = serializers.CharField()
    resource = serializers.CharField(help_text='As RBAC rules name it, e.g. switches.wiring.githedgehog.com')
    installed = serializers.BooleanField(help_text='The cluster serves this kind')
    can_list = serializers.BooleanField(help_text="The fabric's credentials may list this kind")
    message = serializers.CharField(allow_blank=True)


class ConnectionReportSerializer(serializers.Serializer):
    """The answer of a connection test. The fabric's token and kubeconfig are never part of it."""

    ok = serializers.BooleanField()
    server = serializers.CharField(allow_blank=True)
    server_version = serializers.CharField(allow_blank=True)
    groups = serializers.DictField(child=serializers.BooleanField(), help_text='{API group: served by the cluster}')
    kinds = KindAccessSerializer(many=True)
    error = serializers.CharField(allow_blank=True)
