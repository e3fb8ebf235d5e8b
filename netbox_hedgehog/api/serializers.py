# NetBox looks serializers up as netbox_hedgehog.api.serializers.<Model>Serializer (change logging, events).
from .serializers_.connection import *
from .serializers_.fabric import *
from .serializers_.mirror import *
from .serializers_.runs import *
from .serializers_.scheduler import *
