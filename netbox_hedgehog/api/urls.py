from netbox.api.routers import NetBoxRouter

from . import views

router = NetBoxRouter()
router.register('fabrics', views.HedgehogFabricViewSet)

urlpatterns = router.urls
