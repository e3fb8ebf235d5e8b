from django.urls import path
from netbox.api.routers import NetBoxRouter

from . import views

router = NetBoxRouter()
router.register('fabrics', views.HedgehogFabricViewSet)
router.register('sync-runs', views.SyncRunViewSet)
for slug, viewset in views.MIRROR_VIEWSETS.items():
    router.register(slug, viewset)

urlpatterns = [
    *router.urls,
    path('scheduler/', views.SchedulerStatusView.as_view(), name='scheduler'),
]
