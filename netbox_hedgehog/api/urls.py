from django.urls import path
from netbox.api.routers import NetBoxRouter

from . import views

router = NetBoxRouter()
router.register('fabrics', views.HedgehogFabricViewSet)
router.register('sync-runs', views.SyncRunViewSet)

urlpatterns = [
    *router.urls,
    path('scheduler/', views.SchedulerStatusView.as_view(), name='scheduler'),
]
